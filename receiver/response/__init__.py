"""The response process around an incident: roles, checklist, severity, status updates,
reminders (the adapters of the pure `response` package).
"""
