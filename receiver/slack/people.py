"""Who is who between onwatch and Slack: a configured person's Slack user id (from
`people[].slack_user_id`, else looked up once by e-mail with `users.lookupByEmail` and kept in
`slack_user`), and the person a Slack user is (the same, or by the e-mail `users.info` gives)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from slack_sdk import WebClient
from sqlmodel import select

from receiver.rota.settings import PersonSettings
from receiver.slack.client import SlackRefused, call
from receiver.slack.models import SlackUser
from receiver.store.database import Store


class SlackPeople:
    """Maps people to Slack users and back, asking Slack at most once per person."""

    def __init__(
        self,
        people: Sequence[PersonSettings],
        *,
        store: Store,
        client: WebClient,
        clock: Callable[[], datetime],
    ) -> None:
        self.people = {person.name: person for person in people}
        self.store, self.client, self.clock = store, client, clock

    def slack_id(self, name: str) -> str | None:
        """The person's Slack user id; None for someone Slack does not know (or no person)."""
        person = self.people.get(name)
        if person is None:
            return None
        if person.slack_user_id:
            return person.slack_user_id
        with self.store.read() as session:
            known = session.get(SlackUser, name)
        if known is not None:
            return known.slack_user_id or None
        return self._look_up(person)

    def _look_up(self, person: PersonSettings) -> str | None:
        try:
            response = call(self.client.users_lookupByEmail, email=person.email)
        except SlackRefused as exc:
            if exc.error != "users_not_found":
                return None  # Slack is down or refuses: ask again next time
            user_id = ""  # Slack knows no such e-mail: remember that, name them in plain text
        else:
            user_id = str(response["user"]["id"])
        now = self.clock()

        self.store.write(
            lambda session: session.merge(
                SlackUser(person=person.name, slack_user_id=user_id, looked_up_at=now)
            )
        )
        return user_id or None

    def person_of(self, user_id: str) -> str | None:
        """The configured person a Slack user is, or None: by `slack_user_id`, else by the
        id kept from an earlier lookup, else by the e-mail Slack has for the user
        (`users.info`, one call, then kept)."""
        for person in self.people.values():
            if person.slack_user_id == user_id:
                return person.name
        with self.store.read() as session:
            known = session.exec(
                select(SlackUser).where(SlackUser.slack_user_id == user_id)
            ).first()
        if known is not None and known.person in self.people:
            return known.person
        try:
            response = call(self.client.users_info, user=user_id)
        except SlackRefused:
            return None  # no such user, or Slack unreachable: refused, naming the user
        email = str(response["user"].get("profile", {}).get("email", "")).lower()
        found = next((p.name for p in self.people.values() if p.email.lower() == email), None)
        if found is None or not email:
            return None
        now = self.clock()
        self.store.write(
            lambda session: session.merge(
                SlackUser(person=found, slack_user_id=user_id, looked_up_at=now)
            )
        )
        return found
