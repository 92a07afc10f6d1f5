"""Telling people: the notification outbox, announcements to audiences, the notifiers and
their dispatcher.
"""
