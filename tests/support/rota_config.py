"""A small rota configuration shared by the rota API, calendar and CLI tests.

ops (weekly, Europe/London, Monday 09:00 from 2026-11-02), five members a..e:
primary   a b c d e ...   (weeks of Nov 2, 9, 16, 23, 30)
secondary d e a b c ...
f is a person in no rotation; g works from New York.
"""

from __future__ import annotations

from typing import Any

CALENDAR_SECRET = "calendar-test-secret"


def rota_config() -> dict[str, Any]:
    people = [
        {"name": name, "email": f"{name}@example.com", "time_zone": "Europe/London"}
        for name in "abcdef"
    ]
    people.append({"name": "g", "email": "g@example.com", "time_zone": "America/New_York"})
    return {
        "people": people,
        "rotations": [
            {
                "name": "ops",
                "time_zone": "Europe/London",
                "services": ["checkout"],
                "shift_length": "1w",
                "handoff": {"weekday": "monday", "time": "09:00"},
                "start": "2026-11-02",
                "members": list("abcde"),
                "layers": [
                    {"name": "primary"},
                    {"name": "secondary", "order": list("deabc")},
                ],
                "escalation": {"person": "f"},
            }
        ],
        "calendar": {"secret": CALENDAR_SECRET},
    }
