"""Slack's doors into onwatch: `POST /api/v1/slack/commands` (the `/onwatch` slash command)
and `POST /api/v1/slack/interactions` (the buttons).

Slack signs these requests with the app's signing secret instead of sending onwatch's API
token, so the signature is their authentication (`receiver.web.auth` lets exactly these two
routes through to check it here): slack_sdk's `SignatureVerifier` checks it, and refuses a
timestamp more than 5 minutes from now (a replay). Anything else is 401 and changes nothing.

Slack wants an answer within 3 seconds. A command is done in a worker thread; if it is not
done within `ANSWER_WITHIN` seconds the answer says so, and the outcome follows through the
request's `response_url` (slack_sdk's WebhookClient). Button clicks are always answered at
once and their outcome posted through `response_url`.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.webhook import WebhookClient

from receiver.services import Services, services
from receiver.slack.client import build_client
from receiver.slack.commands import Answer, press_button, refuse, run_command
from receiver.slack.people import SlackPeople
from receiver.web.errors import error_response
from receiver.web.request_body import storable_text

log = logging.getLogger(__name__)

bp = Blueprint("slack", __name__, url_prefix="/api/v1/slack")
ANSWER_WITHIN = 2.5  # seconds: Slack gives up after 3
EXTENSION = "onwatch.slack"
UNSIGNED = (
    "missing, wrong or expired Slack signature: the request must be signed with "
    "chat.slack.signing_secret within 5 minutes"
)


@dataclass(frozen=True)
class SlackDoor:
    """What the two routes need, built once by `init_app`."""

    people: SlackPeople
    workers: ThreadPoolExecutor


class _AppClock(Clock):
    """The app's (injectable) clock, for the signature's 5-minute window."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def now(self) -> float:
        return self.svc.clock().timestamp()


def init_app(app: Flask) -> None:
    """Register the routes; Slack's people map and workers when Slack is on."""
    svc: Services = app.extensions["onwatch"]
    slack = svc.settings.chat.slack
    if slack.enabled:
        client = build_client(slack)
        people = SlackPeople(svc.settings.people, store=svc.store, client=client, clock=svc.clock)
        app.extensions[EXTENSION] = SlackDoor(
            people, ThreadPoolExecutor(max_workers=4, thread_name_prefix="slack-command")
        )
    app.register_blueprint(bp)


def _unverified(svc: Services) -> tuple[Response, int] | None:
    """The 401 for a request Slack did not sign (or signed over 5 minutes ago); None when
    the signature holds."""
    slack = svc.settings.chat.slack
    if EXTENSION not in current_app.extensions or slack.signing_secret is None:
        return error_response(
            401, "Slack is not configured here (chat.slack.bot_token and signing_secret)"
        )
    verifier = SignatureVerifier(slack.signing_secret.get_secret_value(), clock=_AppClock(svc))
    try:
        valid = verifier.is_valid_request(request.get_data(cache=True), dict(request.headers))
    except ValueError:  # a timestamp that is no number
        valid = False
    return None if valid else error_response(401, UNSIGNED)


def _door() -> SlackDoor:
    door: SlackDoor = current_app.extensions[EXTENSION]
    return door


def _form() -> dict[str, str]:
    """The form Slack posts, its text storable (`storable_text`: no NUL reaches the store)."""
    fields = parse_qs(request.get_data(cache=True, as_text=True), keep_blank_values=True)
    return {key: storable_text(values[0]) for key, values in fields.items()}


def _as_json(answer: Answer) -> dict[str, Any]:
    return {
        "response_type": "in_channel" if answer.public else "ephemeral",
        "text": answer.text,
    }


def _tell_later(future: Future[Answer], response_url: str) -> None:
    """Post the outcome of work that outlived Slack's 3 seconds to `response_url`."""

    def send(done: Future[Answer]) -> None:
        try:
            answer = done.result()
        except Exception:  # never a traceback to Slack
            log.exception("Slack command failed")
            answer = refuse("onwatch failed to do this; see its log")
        if response_url.startswith(("http://", "https://")):
            try:
                WebhookClient(response_url, timeout=10).send_dict(_as_json(answer))
            except Exception:  # Slack unreachable: the change itself is committed
                log.warning("could not post a command's outcome to Slack's response_url")

    future.add_done_callback(send)


@bp.post("/commands")
def commands() -> tuple[Response, int]:
    """The `/onwatch` slash command."""
    svc = services()
    refused = _unverified(svc)
    if refused is not None:
        return refused
    door, form = _door(), _form()
    future = door.workers.submit(
        run_command,
        svc,
        door.people,
        user_id=form.get("user_id", ""),
        channel_id=form.get("channel_id", ""),
        text=form.get("text", ""),
    )
    try:
        answer = future.result(timeout=ANSWER_WITHIN)
    except TimeoutError:
        _tell_later(future, form.get("response_url", ""))
        return jsonify(response_type="ephemeral", text="working on it…"), 200
    except Exception:
        log.exception("Slack command failed")
        answer = refuse("onwatch failed to do this; see its log")
    return jsonify(_as_json(answer)), 200


@bp.post("/interactions")
def interactions() -> tuple[Response, int]:
    """A click on the opening message's Acknowledge or Resolve button."""
    svc = services()
    refused = _unverified(svc)
    if refused is not None:
        return refused
    door = _door()
    try:
        payload = json.loads(_form().get("payload", ""))
        user_id = str(payload["user"]["id"])
        action = payload["actions"][0]
        action_id, value = str(action["action_id"]), str(action.get("value", ""))
        response_url = str(payload.get("response_url", ""))
    except (ValueError, KeyError, IndexError, TypeError):
        return error_response(400, "payload: expected Slack's block_actions JSON")
    future = door.workers.submit(
        press_button, svc, door.people, user_id=user_id, action=action_id, value=value
    )
    _tell_later(future, response_url)
    return Response(status=200), 200
