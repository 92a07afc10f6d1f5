"""Paging: what goes into the pager outbox and when, escalation, the dispatcher, the pagers,
and PagerDuty's webhooks flowing back.
"""
