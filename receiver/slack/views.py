"""Slack's doors into onwatch: `POST /api/v1/slack/commands` (the `/onwatch` slash command)
and `POST /api/v1/slack/interactions` (the buttons).

Slack signs these requests with the app's signing secret instead of sending onwatch's API
token, so the signature is their authentication (`receiver.web.auth` lets exactly these two
routes through to check it here): slack_sdk's `SignatureVerifier` checks it, and refuses a
timestamp more than 5 minutes from now (a replay). Anything else is 401 and changes nothing.

Slack wants an answer within 3 seconds. A command is done in a worker thread; if it is not
done within `ANSWER_WITHIN` seconds the answer says so, and the outcome follows through the
request's `response_url` (slack_sdk's WebhookClient). `/onwatch update` alone opens the status
update form (`views.open` with the command's `trigger_id`, which Slack honours for 3 seconds);
its submission (`view_submission`) is answered with nothing when the update is posted (Slack
closes the form) or with `response_action: errors` naming the field refused.

Button clicks are always answered at once; then the opening message is replaced through the
click's `response_url` (`replace_original`) to show who acknowledged or resolved the incident,
keeping only the buttons that still apply, and a refusal is told to the clicker alone.
"""

from __future__ import annotations

import json
import logging
import re
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from slack_sdk import WebClient
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.webhook import WebhookClient

from receiver.services import Services, services
from receiver.slack.client import SlackRefused, build_client, call
from receiver.slack.commands import (
    Answer,
    opening_now,
    press_button,
    refuse,
    run_command,
    submit_update_form,
)
from receiver.slack.modal import CALLBACK_ID, submitted, update_modal
from receiver.slack.people import SlackPeople
from receiver.web.errors import error_response
from receiver.web.request_body import storable_text

log = logging.getLogger(__name__)

bp = Blueprint("slack", __name__, url_prefix="/api/v1/slack")
ANSWER_WITHIN = 2.5  # seconds: Slack gives up after 3
EXTENSION = "onwatch.slack"
_INCIDENT = re.compile(r"\d{1,9}")  # the form's private_metadata: an incident id
UNSIGNED = (
    "missing, wrong or expired Slack signature: the request must be signed with "
    "chat.slack.signing_secret within 5 minutes"
)


@dataclass(frozen=True)
class SlackDoor:
    """What the two routes need, built once by `init_app`."""

    people: SlackPeople
    workers: ThreadPoolExecutor
    client: WebClient  # the bot's, for views.open


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
            people, ThreadPoolExecutor(max_workers=4, thread_name_prefix="slack-command"), client
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


def _command(svc: Services, door: SlackDoor, form: dict[str, str]) -> Answer:
    """One `/onwatch` command; `update` alone opens the form with the command's trigger_id
    (an empty answer then: Slack shows the form)."""
    answer = run_command(
        svc,
        door.people,
        user_id=form.get("user_id", ""),
        channel_id=form.get("channel_id", ""),
        text=form.get("text", ""),
    )
    if answer.form_for is None:
        return answer
    try:
        call(
            door.client.views_open,
            trigger_id=form.get("trigger_id", ""),
            view=update_modal(answer.form_for),
        )
    except SlackRefused as exc:
        return refuse(
            f"could not open the update form ({exc.delivery.detail}): use "
            "`/onwatch update <status> <impact> | <action> | <eta>`"
        )
    return Answer("")


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
        if answer.text and response_url.startswith(("http://", "https://")):
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
    future = door.workers.submit(_command, svc, door, form)
    try:
        answer = future.result(timeout=ANSWER_WITHIN)
    except TimeoutError:
        _tell_later(future, form.get("response_url", ""))
        return jsonify(response_type="ephemeral", text="working on it…"), 200
    except Exception:
        log.exception("Slack command failed")
        answer = refuse("onwatch failed to do this; see its log")
    if not answer.text:  # the form opened
        return Response(status=200), 200
    return jsonify(_as_json(answer)), 200


@bp.post("/interactions")
def interactions() -> tuple[Response, int]:
    """A click on the opening message's Acknowledge or Resolve button, or the submitted
    status update form."""
    svc = services()
    refused = _unverified(svc)
    if refused is not None:
        return refused
    try:
        payload = json.loads(_form().get("payload", ""))
        kind = payload["type"] if isinstance(payload, dict) else None
    except (ValueError, KeyError, TypeError):
        kind = None
    if kind == "view_submission":
        return _form_submitted(svc, payload)
    if kind == "block_actions":
        return _clicked(svc, payload)
    return error_response(400, "payload: expected Slack's block_actions or view_submission JSON")


def _clicked(svc: Services, payload: dict[str, Any]) -> tuple[Response, int]:
    door = _door()
    try:
        user_id = str(payload["user"]["id"])
        action = payload["actions"][0]
        action_id, value = str(action["action_id"]), str(action.get("value", ""))
        response_url = str(payload.get("response_url", ""))
        message = payload.get("message") or {}
        blocks = message.get("blocks") or [{}]
        text = str((blocks[0].get("text") or {}).get("text") or message.get("text") or "")
    except (KeyError, IndexError, TypeError, AttributeError):
        return error_response(400, "payload: expected Slack's block_actions JSON")

    def click() -> None:
        answer = press_button(svc, door.people, user_id=user_id, action=action_id, value=value)
        if not response_url.startswith(("http://", "https://")):
            return
        webhook = WebhookClient(response_url, timeout=10)
        now = None
        if text and value.isdigit() and len(value) < 10:
            now = opening_now(svc, door.people, int(value), storable_text(text))
        if now is not None:
            webhook.send(text=text, blocks=now, replace_original=True)
        if now is None or not answer.public:
            # A refusal, or "already acknowledged", goes to the clicker alone; the outcome
            # of a click on a message onwatch cannot rebuild, to the channel.
            webhook.send(**_as_json(answer), replace_original=False)

    def done(future: Future[None]) -> None:
        try:
            future.result()
        except Exception:  # never a traceback to Slack; the change itself is committed
            log.exception("Slack button click failed")

    door.workers.submit(click).add_done_callback(done)
    return Response(status=200), 200


def _log_late_refusal(future: Future[dict[str, str]]) -> None:
    """An update form that outlived Slack's 3 seconds: Slack closed it, so a refusal can
    only be logged."""
    try:
        errors = future.result()
    except Exception:
        log.exception("Slack update form failed")
        return
    if errors:
        log.warning("a Slack update form was refused after Slack closed it: %s", errors)


def _form_submitted(svc: Services, payload: dict[str, Any]) -> tuple[Response, int]:
    """The status update form: posted (an empty answer closes the form) or its errors."""
    door = _door()
    try:
        view = payload["view"]
        if view.get("callback_id") != CALLBACK_ID:
            return error_response(400, f"view: unknown form {view.get('callback_id')!r}")
        user_id = str(payload["user"]["id"])
        match = _INCIDENT.fullmatch(str(view.get("private_metadata", "")))
        if match is None:
            raise ValueError("private_metadata: no incident id")
        incident_id = int(match.group(0))
        fields = {key: storable_text(text) for key, text in submitted(view).items()}
    except (KeyError, TypeError, ValueError, AttributeError):
        return error_response(400, "payload: expected Slack's view_submission JSON")
    future = door.workers.submit(
        submit_update_form,
        svc,
        door.people,
        user_id=user_id,
        incident_id=incident_id,
        fields=fields,
    )
    try:
        errors = future.result(timeout=ANSWER_WITHIN)
    except TimeoutError:  # Slack closes the form; the update is posted after (or logged)
        future.add_done_callback(_log_late_refusal)
        return Response(status=200), 200
    except Exception:
        log.exception("Slack update form failed")
        errors = {"status": "onwatch failed to post this; see its log"}
    if errors:
        return jsonify(response_action="errors", errors=errors), 200
    return Response(status=200), 200
