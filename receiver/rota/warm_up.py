"""Warming the rota up when a server worker starts, so that no question waits for generation.

Who is on call at an instant depends on every shift before it (the queues and rest ledgers
that generation carries), so the first question about an instant five years ahead would walk
every shift up to there: about a second for ten rotations of fifty people. A worker therefore
generates the whole allowed range (`receiver.instants`) in a background thread as it starts.
`Rota.warm_up` generates on its own, without the rota's lock, and swaps its shifts in at the
end, so whom to page now is answered at once while it runs; a far question asked meanwhile
generates for itself (the cold time) as before.
"""

from __future__ import annotations

import threading

from flask import Flask

from receiver.instants import instant_range
from receiver.services import Services

THREAD_NAME = "onwatch-rota-warm-up"


def warm_up_in_background(app: Flask) -> threading.Thread:
    """Start generating `app`'s rota up to the latest instant a request may name (and the
    rota's lookahead beyond it, which a question there generates anyway); the thread is a
    daemon, so it never holds a worker that is stopping."""
    services: Services = app.extensions["onwatch"]
    rota = services.rota
    until = instant_range(services.clock()).latest + rota.lookahead
    thread = threading.Thread(target=rota.warm_up, args=(until,), name=THREAD_NAME, daemon=True)
    thread.start()
    return thread
