"""A fake PagerDuty on 127.0.0.1: the Events API v2 and the REST `/incidents` endpoints.

Real pdpyras sessions talk to it over HTTP. It validates what PagerDuty validates (enough
for onwatch's pagers), answers with PagerDuty's shapes and messages, keeps incidents so a
test can count them per dedup key, and can misbehave on request: `fail_next(n, status)`
answers the next n requests with an error, `set_down(True)` closes the listening socket so
connections are refused. No test functions live here. `with FakePagerDuty() as fake:` starts
it and always stops it, joining every thread it started.

Events API alerts follow PagerDuty's merge rule: an alert belongs to the service behind its
routing key, and a trigger whose dedup_key is that of an open (triggered or acknowledged)
alert on the same routing key is merged into it and notifies nobody; acknowledge and resolve
act only on the alert of their own routing key. Each new alert notifies whoever the escalation
policy of its service names: `notifies` maps routing keys to that person (a service per
person), and `notifications` lists who was woken, for which routing key and dedup key.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.loopback import LoopbackServer

ROUTING_KEY_LENGTH = 32  # PagerDuty integration keys are 32 characters
DUPLICATE_KEY_ERROR = "Open incident with matching dedup key already exists on this service"
EVENT_ACTIONS = ("trigger", "acknowledge", "resolve")
EVENT_SEVERITIES = ("critical", "error", "warning", "info")
OPEN = ("triggered", "acknowledged")


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the fake saw it, and what it answered."""

    at: float  # time.monotonic() when it arrived
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any  # decoded JSON, or the raw text when it was not JSON
    status: int


@dataclass(frozen=True)
class FakeIncident:
    """An incident as the fake keeps it (a snapshot: later changes do not show)."""

    id: str
    api: str  # "events" or "rest"
    key: str  # dedup_key (Events API) or incident_key (REST)
    status: str  # triggered | acknowledged | resolved
    title: str
    severity: str  # Events API payload.severity, or REST urgency
    assignees: tuple[str, ...] = ()  # REST: user ids, latest assignment
    assignment_history: tuple[tuple[str, ...], ...] = ()
    events: int = 1  # Events API: events received for this dedup key while open
    payload: dict[str, Any] = field(default_factory=dict)  # the last trigger's event / body
    routing_key: str = ""  # Events API: the integration key of the service it belongs to


@dataclass(frozen=True)
class FakeNotification:
    """Someone PagerDuty woke: a new Events API alert notified its service's policy."""

    person: str | None  # whom `notifies` names for the routing key; None: not mapped
    routing_key: str
    dedup_key: str


@dataclass
class _Failure:
    remaining: int
    status: int
    retry_after: str | None


class FakePagerDuty(LoopbackServer):
    """A local PagerDuty that real pdpyras sessions can page; a context manager."""

    def __init__(
        self,
        *,
        api_token: str = "fake-api-token",
        service_id: str = "PSERVIC",
        users: tuple[str, ...] = ("PALICE1", "PBOB001", "PCHIDI1"),
        from_emails: tuple[str, ...] = ("onwatch@example.com",),
        notifies: dict[str, str] | None = None,
    ) -> None:
        self.api_token = api_token
        # Routing key -> whom the escalation policy of the service behind it notifies.
        self.notifies = dict(notifies or {})
        self._notifications: list[FakeNotification] = []
        self.service_id = service_id
        self.users = set(users)
        self.from_emails = set(from_emails)
        self._lock = threading.Lock()
        self._incidents: list[FakeIncident] = []
        self._log: list[LoggedRequest] = []
        self._failure: _Failure | None = None
        self._ids = itertools.count(1)
        super().__init__()

    # ---------------------------------------------------------------- life cycle

    def _build(self, port: int) -> ThreadingHTTPServer:
        fake = self

        class Handler(_Handler):
            owner = fake

        server = _Listener(("127.0.0.1", port), Handler)
        server.daemon_threads = False  # join request threads on close: nothing left behind
        return server

    # ---------------------------------------------------------------- controls and views

    @property
    def url(self) -> str:
        """Base URL for both APIs: `url + "/v2/enqueue"`, `url + "/incidents"`."""
        return f"http://127.0.0.1:{self._port}"

    def fail_next(self, n: int, status: int, retry_after: str | float | None = None) -> None:
        """Answer `status` (with Retry-After if given) to the next `n` requests."""
        with self._lock:
            self._failure = _Failure(n, status, None if retry_after is None else str(retry_after))

    @property
    def requests(self) -> list[LoggedRequest]:
        """Every request so far, oldest first."""
        with self._lock:
            return list(self._log)

    @property
    def incidents(self) -> list[FakeIncident]:
        """Every incident so far (both APIs), oldest first."""
        with self._lock:
            return list(self._incidents)

    def incidents_for(self, key: str, routing_key: str | None = None) -> list[FakeIncident]:
        """The incidents opened for one dedup key / incident key (on one routing key)."""
        return [
            incident
            for incident in self.incidents
            if incident.key == key and routing_key in (None, incident.routing_key)
        ]

    @property
    def notifications(self) -> list[FakeNotification]:
        """Everyone woken by a new Events API alert so far, oldest first."""
        with self._lock:
            return list(self._notifications)

    def woken(self) -> list[str | None]:
        """Whom each new Events API alert woke, in order (merged triggers wake nobody)."""
        return [notification.person for notification in self.notifications]

    # ---------------------------------------------------------------- request handling

    def handle(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], Any]:
        """Answer one request: (status, extra headers, JSON body)."""
        parts = urlsplit(target)
        query = parse_qs(parts.query)
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with self._lock:
            status, extra, answer = self._answer(method, parts.path, query, headers, body)
            self._log.append(
                LoggedRequest(time.monotonic(), method, parts.path, query, headers, body, status)
            )
        return status, extra, answer

    def _answer(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
    ) -> tuple[int, dict[str, str], Any]:
        failure = self._failure
        if failure is not None and failure.remaining > 0:
            failure.remaining -= 1
            extra = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            return failure.status, extra, _error_body(path, failure.status)
        if path == "/v2/enqueue" and method == "POST":
            return self._enqueue(body)
        if path == "/incidents" or path.startswith("/incidents/"):
            return self._rest(method, path, query, headers, body)
        return 404, {}, {"error": {"message": "Not Found", "code": 2100}}

    # Events API v2 -------------------------------------------------------------------

    def _enqueue(self, event: Any) -> tuple[int, dict[str, str], Any]:
        errors = _event_errors(event)
        if errors:
            return (
                400,
                {},
                {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": errors,
                },
            )
        action, key = event["event_action"], event.get("dedup_key")
        routing_key = event["routing_key"]
        # Dedup is per service: the same key on another routing key is another alert.
        current = self._open("events", key, routing_key) if key else None
        if action == "trigger":
            key = key or f"generated-{next(self._ids)}"
            if current is None:
                self._incidents.append(
                    FakeIncident(
                        id=f"Q{next(self._ids):06d}",
                        api="events",
                        key=key,
                        status="triggered",
                        title=event["payload"]["summary"],
                        severity=event["payload"]["severity"],
                        payload=event,
                        routing_key=routing_key,
                    )
                )
                self._notifications.append(
                    FakeNotification(self.notifies.get(routing_key), routing_key, key)
                )
            else:  # merged into the open alert: nobody is notified again
                self._update(current, events=current.events + 1, payload=event)
        elif current is not None:
            self._update(current, status="acknowledged" if action == "acknowledge" else "resolved")
        # PagerDuty answers 202 to an ack/resolve with nothing to act on, too.
        return 202, {}, {"status": "success", "message": "Event processed", "dedup_key": key}

    # REST API -------------------------------------------------------------------------

    def _rest(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: Any,
    ) -> tuple[int, dict[str, str], Any]:
        if headers.get("authorization") != f"Token token={self.api_token}":
            return 401, {}, {"error": {"message": "Authentication failed", "code": 2006}}
        if method in ("POST", "PUT") and headers.get("from") not in self.from_emails:
            return 400, {}, _invalid("A valid From header is required.")
        if path == "/incidents" and method == "POST":
            return self._create(body)
        if path == "/incidents" and method == "GET":
            return self._list(query)
        incident = self._by_id(path.removeprefix("/incidents/"))
        if incident is None:
            return 404, {}, {"error": {"message": "Not Found", "code": 2100}}
        if method == "GET":
            return 200, {}, {"incident": self._rest_view(incident)}
        if method == "PUT":
            return self._change(incident, body)
        return 405, {}, {"error": {"message": "Method Not Allowed", "code": 2000}}

    def _create(self, body: Any) -> tuple[int, dict[str, str], Any]:
        incident = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(incident, dict) or incident.get("type") != "incident":
            return 400, {}, _invalid("Incident type must be incident.")
        if not incident.get("title"):
            return 400, {}, _invalid("Title cannot be empty.")
        service = incident.get("service") or {}
        if service != {"id": self.service_id, "type": "service_reference"}:
            return 400, {}, _invalid("Service not found.")
        if incident.get("urgency", "high") not in ("high", "low"):
            return 400, {}, _invalid("Urgency must be high or low.")
        assignees, problem = self._assignees(incident.get("assignments", []))
        if problem:
            return 400, {}, _invalid(problem)
        key = incident.get("incident_key")
        if key and self._open("rest", key) is not None:
            return (
                400,
                {},
                {
                    "error": {
                        "message": "Arguments Caused Error",
                        "code": 2002,
                        "errors": [DUPLICATE_KEY_ERROR],
                    }
                },
            )
        created = FakeIncident(
            id=f"P{next(self._ids):06d}",
            api="rest",
            key=key or "",
            status="triggered",
            title=incident["title"],
            severity=incident.get("urgency", "high"),
            assignees=assignees,
            assignment_history=(assignees,),
            payload=body,
        )
        self._incidents.append(created)
        return 201, {}, {"incident": self._rest_view(created)}

    def _change(self, incident: FakeIncident, body: Any) -> tuple[int, dict[str, str], Any]:
        change = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(change, dict) or change.get("type") not in (
            "incident",
            "incident_reference",
        ):
            return 400, {}, _invalid("Incident type must be incident_reference.")
        if incident.status == "resolved":
            return 400, {}, _invalid("Incident Already Resolved")
        updates: dict[str, Any] = {}
        if "status" in change:
            if change["status"] not in ("acknowledged", "resolved"):
                return 400, {}, _invalid("Status must be acknowledged or resolved.")
            updates["status"] = change["status"]
        if "assignments" in change:
            assignees, problem = self._assignees(change["assignments"])
            if problem or not assignees:
                return 400, {}, _invalid(problem or "Assignments cannot be empty.")
            updates["assignees"] = assignees
            updates["assignment_history"] = (*incident.assignment_history, assignees)
        updated = self._update(incident, **updates)
        return 200, {}, {"incident": self._rest_view(updated)}

    def _list(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        keys = query.get("incident_key", [])
        statuses = query.get("statuses[]", [])
        found = [
            incident
            for incident in self._incidents
            if incident.api == "rest"
            and (not keys or incident.key in keys)
            and (not statuses or incident.status in statuses)
        ]
        views = [self._rest_view(incident) for incident in found]
        return 200, {}, {"incidents": views, "limit": 25, "offset": 0, "more": False}

    def _assignees(self, assignments: Any) -> tuple[tuple[str, ...], str]:
        ids = []
        for assignment in assignments if isinstance(assignments, list) else [None]:
            assignee = assignment.get("assignee") if isinstance(assignment, dict) else None
            if not isinstance(assignee, dict) or assignee.get("type") != "user_reference":
                return (), "Assignee must be a user_reference."
            if assignee.get("id") not in self.users:
                return (), f"User {assignee.get('id')} not found."
            ids.append(assignee["id"])
        return tuple(ids), ""

    def _rest_view(self, incident: FakeIncident) -> dict[str, Any]:
        return {
            "id": incident.id,
            "type": "incident",
            "title": incident.title,
            "summary": incident.title,
            "status": incident.status,
            "urgency": incident.severity,
            "incident_key": incident.key,
            "service": {"id": self.service_id, "type": "service_reference"},
            "assignments": [
                {"assignee": {"id": user, "type": "user_reference"}} for user in incident.assignees
            ],
            "self": f"{self.url}/incidents/{incident.id}",
        }

    # state ---------------------------------------------------------------------------

    def _open(self, api: str, key: str, routing_key: str = "") -> FakeIncident | None:
        for incident in self._incidents:
            if (
                incident.api == api
                and incident.key == key
                and incident.routing_key == routing_key
                and incident.status in OPEN
            ):
                return incident
        return None

    def _by_id(self, incident_id: str) -> FakeIncident | None:
        return next((i for i in self._incidents if i.id == incident_id), None)

    def _update(self, incident: FakeIncident, **changes: Any) -> FakeIncident:
        updated = replace(incident, **changes)
        self._incidents[self._incidents.index(incident)] = updated
        return updated


class _Listener(ThreadingHTTPServer):
    # socketserver's default backlog of 5 overflows when a dispatcher sends with more than
    # a few threads: the kernel drops the extra connections' SYNs and the client retries a
    # second later, so the fake, not the sender, would set the pace (PagerDuty's does not).
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    owner: FakePagerDuty
    # HTTP/1.0: one request per connection, so a handler thread ends with its response.
    protocol_version = "HTTP/1.0"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, extra, body = self.owner.handle(self.command, self.path, headers, raw)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is the record; keep pytest's output clean


def _event_errors(event: Any) -> list[str]:
    """What PagerDuty's Events API v2 would reject in `event`."""
    if not isinstance(event, dict):
        return ["Event must be a JSON object."]
    errors = []
    routing_key = event.get("routing_key")
    if not isinstance(routing_key, str) or len(routing_key) != ROUTING_KEY_LENGTH:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = event.get("event_action")
    if action not in EVENT_ACTIONS:
        errors.append("'event_action' is missing or blank")
    dedup_key = event.get("dedup_key")
    if dedup_key is not None and (not isinstance(dedup_key, str) or len(dedup_key) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup_key:
        errors.append("'dedup_key' is missing or blank")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or blank")
        else:
            for name in ("summary", "source", "severity"):
                if not payload.get(name):
                    errors.append(f"'payload.{name}' is missing or blank")
            if len(str(payload.get("summary", ""))) > 1024:
                errors.append("'payload.summary' is too long (maximum is 1024 characters)")
            if payload.get("severity") and payload["severity"] not in EVENT_SEVERITIES:
                errors.append("'payload.severity' must be one of critical, error, warning, info")
    return errors


def _invalid(message: str) -> dict[str, Any]:
    return {"error": {"message": "Invalid Input Provided", "code": 2001, "errors": [message]}}


def _error_body(path: str, status: int) -> dict[str, Any]:
    if path == "/v2/enqueue":
        if status == 429:
            return {"status": "throttle event", "message": "Too many events"}
        return {"status": "error", "message": f"Fake PagerDuty failure {status}"}
    if status == 429:
        return {"error": {"message": "Rate Limit Exceeded", "code": 2020}}
    return {"error": {"message": f"Fake PagerDuty failure {status}", "code": 2000 + status}}
