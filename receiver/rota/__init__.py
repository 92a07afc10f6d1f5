"""The rota in the receiver: its settings, stored overrides, who-is-on-call views, ICS feeds
and the CLI (the maths lives in `scheduler`).
"""
