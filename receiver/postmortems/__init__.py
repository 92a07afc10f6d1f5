"""Postmortems: scheduling, milestones, action items and the Markdown draft."""
