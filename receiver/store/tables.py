"""Every table onwatch stores, gathered in one metadata for the migrations and their check.

Each feature package owns its rows (`receiver/<feature>/models.py`); importing them all here
is what makes `METADATA` whole. The migrations in `migrations/` own the schema itself, and a
test compares the two.
"""

from __future__ import annotations

from sqlmodel import SQLModel

import receiver.handoffs.models
import receiver.incidents.models
import receiver.jobs.models
import receiver.notify.models
import receiver.pages.models
import receiver.paging.models
import receiver.postmortems.models
import receiver.response.models
import receiver.rota.models
import receiver.slack.models  # noqa: F401  # the imports above register their tables

METADATA = SQLModel.metadata
