"""Incident channels in Slack: created, staffed, narrated and archived through the Slack
outbox, and the incident driven from Slack (the `/onwatch` command and the buttons)."""
