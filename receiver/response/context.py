"""What the response use cases need, built once from the settings: targets, audiences,
templates, and the paging context (a severity change re-plans paging)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from receiver.notify.settings import NotificationSettings
from receiver.paging.planner import PagingContext
from receiver.slack.settings import SlackSettings
from response.rendering import Templates
from response.targets import ResponseTargets


@dataclass(frozen=True)
class ResponseContext:
    """The collaborators of the response use cases."""

    paging: PagingContext  # its deadline is a notification's delivery deadline too
    targets: ResponseTargets
    notifications: NotificationSettings
    templates: Templates
    notify: Mapping[str, tuple[str, ...]]  # rotation name -> its team's notification targets
    slack: SlackSettings = SlackSettings()  # incident channels (off without a bot token)

    def team_targets(self, service: str) -> tuple[str, ...]:
        """The notification targets of the team whose rotation covers `service`."""
        rotation = self.paging.rota.rotation_for_service(service)
        return self.notify.get(rotation.name, ()) if rotation else ()
