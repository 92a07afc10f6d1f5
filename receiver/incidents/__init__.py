"""Incidents: Alertmanager's webhook, ingest, acknowledge and resolve, the read API, the CLI."""
