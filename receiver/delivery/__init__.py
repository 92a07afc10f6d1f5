"""Delivering messages from an outbox: how an attempt went, when to retry, JSON over HTTP."""
