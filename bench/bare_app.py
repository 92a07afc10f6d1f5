"""The baseline for `bench/ingest`: a Flask endpoint that only parses the webhook's JSON body.

It is served by gunicorn with the same worker class and worker/thread counts as onwatch, so
the ratio onwatch/bare isolates onwatch's own cost (validation, rules, SQLite writes) from
what any Flask app under gunicorn pays for HTTP parsing, routing and JSON decoding.
"""

from __future__ import annotations

from flask import Flask, request

app = Flask("bare")


@app.post("/api/v1/alertmanager")
def alertmanager() -> tuple[dict[str, int], int]:
    """Decode the body (as onwatch must) and answer with a small JSON object, like onwatch."""
    payload = request.get_json()
    return {"alerts": len(payload.get("alerts", []))}, 200


@app.get("/readyz")
def readyz() -> tuple[dict[str, str], int]:
    """Readiness probe, polled by the benchmark exactly as it polls onwatch's `/readyz`."""
    return {"status": "ready"}, 200
