"""People's passwords for `web.auth: password`: set from the CLI, checked at sign-in.

Hashing is werkzeug.security's (salted scrypt): nothing here is cryptography of our own. A
session remembers a short digest of the hash it signed in with, so setting a new password
ends every session signed in with the old one.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlmodel import Session
from werkzeug.security import check_password_hash, generate_password_hash

from receiver.pages.models import PasswordRecord

MIN_LENGTH = 12
MAX_LENGTH = 1024  # scrypt's work grows with the input: a megabyte password is refused
# Checked when nobody by that name has a password, so that both answers take as long.
_NOBODY = generate_password_hash("no one has this password")


class WeakPassword(ValueError):
    """The password cannot be used; the message says why."""


def check_strength(password: str) -> None:
    """Raise WeakPassword unless `password` is long enough (and not absurdly long)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")


def set_password(session: Session, person: str, password: str, *, now: datetime) -> None:
    """Store (or replace) `person`'s password hash; their old sessions stop working."""
    check_strength(password)
    record = session.get(PasswordRecord, person) or PasswordRecord(
        person=person, password_hash="", set_at=now
    )
    record.password_hash, record.set_at = generate_password_hash(password), now
    session.add(record)


def verify(session: Session, person: str, password: str) -> str | None:
    """The hash's digest (see `hash_digest`) when `password` is `person`'s, else None."""
    record = session.get(PasswordRecord, person) if len(password) <= MAX_LENGTH else None
    if record is None:
        check_password_hash(_NOBODY, password[:MAX_LENGTH])
        return None
    if not check_password_hash(record.password_hash, password):
        return None
    return hash_digest(record.password_hash)


def current_digest(session: Session, person: str) -> str | None:
    """The digest of `person`'s password hash now (None: they have none)."""
    record = session.get(PasswordRecord, person)
    return hash_digest(record.password_hash) if record else None


def hash_digest(password_hash: str) -> str:
    """A short fingerprint of a hash, kept in the session cookie (never the hash itself)."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]
