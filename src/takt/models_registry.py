"""Imports every model module so `metadata` knows all tables (for Alembic and tests)."""

from takt.core import events, idempotency
from takt.core.models import Base

metadata = Base.metadata

__all__ = ["events", "idempotency", "metadata"]
