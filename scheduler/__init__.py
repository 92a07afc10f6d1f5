"""The rota maths, pure: rotations, shifts, overrides, checks, ICS feeds, escalation paths,
night pages, handoff briefings and the monthly burden accounting (`burden/`).

Nothing here touches a clock, a database or the network: time is an argument. The time-driven
jobs that use it run in `receiver/jobs/`.
"""
