"""Finding the incident a use case acts on, locked for the transaction."""

from __future__ import annotations

from sqlmodel import Session, select

from receiver.incidents.models import IncidentRecord


class UnknownIncident(LookupError):
    """No incident has that id."""


def locked_incident(session: Session, incident_id: int) -> IncidentRecord:
    """The incident, locked for this transaction (FOR UPDATE on PostgreSQL); or UnknownIncident."""
    incident = session.exec(
        select(IncidentRecord).where(IncidentRecord.id == incident_id).with_for_update()
    ).first()
    if incident is None:
        raise UnknownIncident(incident_id)
    return incident
