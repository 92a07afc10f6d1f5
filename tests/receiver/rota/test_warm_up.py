"""A server worker generates the rota's whole allowed range as it starts (in the background)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import Flask

from receiver.instants import INSTANT_REACH
from receiver.rota.warm_up import THREAD_NAME, warm_up_in_background
from receiver.server import ReceiverServer
from receiver.services import Services
from tests.support.clock import Clock
from tests.support.rota_config import rota_config


def test_warm_up_generates_up_to_the_latest_instant_a_request_may_name(
    make_app: Callable[..., Flask], clock: Clock
) -> None:
    app = make_app(**rota_config())
    services: Services = app.extensions["onwatch"]

    warm_up_in_background(app).join(timeout=120)

    generated = services.rota.generated_until
    assert generated is not None and generated >= clock() + INSTANT_REACH
    far = (clock() + INSTANT_REACH).isoformat()
    response = app.test_client().get("/api/v1/oncall", query_string={"at": far})
    assert response.status_code == 200
    assert services.rota.generated_until == generated  # answered from what was generated


def test_each_server_worker_warms_its_rota_up(make_app: Callable[..., Flask]) -> None:
    settings = make_app(**rota_config()).extensions["onwatch"].settings
    server = ReceiverServer(settings, {})

    app = server.load()

    [thread] = [t for t in threading.enumerate() if t.name == THREAD_NAME]
    thread.join(timeout=120)
    assert app.extensions["onwatch"].rota.generated_until is not None
