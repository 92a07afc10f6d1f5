"""The `response:` and `notifications:` sections: the response process's numbers, and where
status updates, reminders and announcements go.

`notifications.targets` names each place a message can go (a generic JSON webhook, a Slack
incoming webhook); `notifications.audiences` groups targets under the seed's audiences, each
with the template it reads (the internal update or the executive one); the seed's table
decides which audiences hear about an incident of each severity, and the configuration may
change it. Rotations name their own team's targets with `notify:`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from receiver.interpolation import blank_is_unset
from receiver.paging_settings import SeverityName, parse_duration
from response.rendering import check_template
from response.targets import ResponseTargets

NotifierKind = Literal["webhook", "slack"]
TemplateName = Literal["internal", "executive"]

# The seed's "Communication" column.
DEFAULT_SEVERITY_AUDIENCES: dict[str, list[str]] = {
    "SEV1": ["exec", "all-hands"],
    "SEV2": ["leadership", "affected-teams"],
    "SEV3": ["team", "stakeholders"],
    "SEV4": ["team"],
}
TEAM = "team"  # the audience that always includes the rotation's own `notify:` targets
SEED_AUDIENCES = ("exec", "all-hands", "leadership", "affected-teams", TEAM, "stakeholders")
EXECUTIVE_AUDIENCES = ("exec", "leadership")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> Any:
    return parse_duration(value) if isinstance(value, str) else value


class NotificationTargetSettings(_Model):
    """One place messages go. A Slack webhook URL is a secret: it is kept out of reprs."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: NotifierKind
    url: SecretStr | None = None
    headers: dict[str, SecretStr] = {}

    url_blank_is_unset = field_validator("url", mode="before")(blank_is_unset)

    @field_validator("url")
    @classmethod
    def _http(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return url

    @property
    def enabled(self) -> bool:
        """A target whose URL is unset (an empty `${VAR}`) is configured but sends nothing."""
        return self.url is not None


class AudienceSettings(_Model):
    """One audience: the template it reads and the targets that reach it."""

    template: TemplateName = "internal"
    targets: list[str] = []


class TemplateSettings(_Model):
    """Jinja2 files replacing the built-in templates (paths relative to the working dir)."""

    internal: Path | None = None
    executive: Path | None = None

    @field_validator("internal", "executive")
    @classmethod
    def _usable(cls, path: Path | None) -> Path | None:
        if path is None:
            return None
        if not path.is_file():
            raise ValueError(f"no such template file: {path}")
        check_template(path)  # a TemplateError (a ValueError) names the file, line and problem
        return path


class NotificationSettings(_Model):
    """Where messages go, per audience and per severity."""

    targets: list[NotificationTargetSettings] = []
    audiences: dict[str, AudienceSettings] = {}
    severity_audiences: dict[SeverityName, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_SEVERITY_AUDIENCES.items()}
    )
    templates: TemplateSettings = TemplateSettings()

    @field_validator("severity_audiences", mode="before")
    @classmethod
    def _merge_defaults(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {**DEFAULT_SEVERITY_AUDIENCES, **value}

    @model_validator(mode="after")
    def _references(self) -> NotificationSettings:
        names = [target.name for target in self.targets]
        problems = [f'targets: "{n}" is used twice' for n in set(names) if names.count(n) > 1]
        for audience, settings in self.audiences.items():
            for i, target in enumerate(settings.targets):
                if target not in names:
                    problems.append(f'audiences.{audience}.targets[{i}]: unknown target "{target}"')
        for severity, audiences in self.severity_audiences.items():
            for i, audience in enumerate(audiences):
                if audience not in self.audiences and audience not in SEED_AUDIENCES:
                    problems.append(
                        f'severity_audiences.{severity}[{i}]: unknown audience "{audience}" '
                        f"(define it under notifications.audiences)"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def target(self, name: str) -> NotificationTargetSettings:
        """The target called `name` (validated to exist wherever it is referenced)."""
        return next(target for target in self.targets if target.name == name)

    def targets_of(self, audience: str) -> list[str]:
        """The targets configured for `audience` (none for a seed audience left unset)."""
        settings = self.audiences.get(audience)
        return list(settings.targets) if settings else []

    def template_of(self, audience: str) -> TemplateName:
        """Which template `audience` reads; exec and leadership read the executive one."""
        if audience in self.audiences:
            return self.audiences[audience].template
        return "executive" if audience in EXECUTIVE_AUDIENCES else "internal"


class ResponseSettings(_Model):
    """The response process's numbers (the seed's defaults); durations like "15m", "2d"."""

    detection_target: timedelta = timedelta(minutes=5)
    triage_target: timedelta = timedelta(minutes=15)
    update_every: dict[SeverityName, timedelta] = {
        "SEV1": timedelta(minutes=15),
        "SEV2": timedelta(minutes=30),
    }
    escalate_without_progress: timedelta = timedelta(minutes=30)
    escalate_severities: list[SeverityName] = ["SEV1", "SEV2"]
    mttr: dict[SeverityName, timedelta] = {
        "SEV1": timedelta(hours=4),
        "SEV2": timedelta(hours=24),
        "SEV3": timedelta(hours=72),
        "SEV4": timedelta(weeks=1),
    }
    postmortem_severities: list[SeverityName] = ["SEV1", "SEV2"]
    postmortem_draft: timedelta = timedelta(hours=48)
    postmortem_review: timedelta = timedelta(weeks=1)
    action_items_assigned: timedelta = timedelta(weeks=2)
    action_items_completed: timedelta = timedelta(days=30)
    postmortem_remind_every: timedelta = timedelta(hours=24)

    durations = field_validator(
        "detection_target",
        "triage_target",
        "escalate_without_progress",
        "postmortem_draft",
        "postmortem_review",
        "action_items_assigned",
        "action_items_completed",
        "postmortem_remind_every",
        mode="before",
    )(_duration)

    @field_validator("update_every", "mttr", mode="before")
    @classmethod
    def _duration_map(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, dict):
            return value
        defaults = cls.model_fields[str(info.field_name)].default
        merged = dict(defaults) if info.field_name == "mttr" else {}
        for severity, text in value.items():
            try:
                merged[severity] = _duration(text)
            except ValueError as exc:
                raise ValueError(f"{severity}: {exc}") from None
        return merged

    def targets(self) -> ResponseTargets:
        """The pure-domain value of these numbers."""
        return ResponseTargets(
            detection=self.detection_target,
            triage=self.triage_target,
            update_every=dict(self.update_every),
            escalate_without_progress=self.escalate_without_progress,
            escalate_severities=tuple(self.escalate_severities),
            mttr=dict(self.mttr),
            postmortem_severities=tuple(self.postmortem_severities),
            postmortem_draft=self.postmortem_draft,
            postmortem_review=self.postmortem_review,
            action_items_assigned=self.action_items_assigned,
            action_items_completed=self.action_items_completed,
            postmortem_remind_every=self.postmortem_remind_every,
        )
