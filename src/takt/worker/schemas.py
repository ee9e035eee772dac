"""Shapes of the job queue as instance admins see it (`/admin/jobs`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypeAliasType

from takt.core.pagination import Page

JobState = TypeAliasType("JobState", Literal["ready", "running", "dead"])


class JobFilters(BaseModel):
    """What the list of jobs is narrowed to (its query parameters)."""

    model_config = ConfigDict(frozen=True)

    state: JobState | None = None
    kind: str | None = None


class JobRead(BaseModel):
    id: str = Field(description="The job's id.")
    kind: str = Field(description="Which handler runs it.", examples=["webhook.deliver"])
    state: JobState = Field(
        description="`ready`: waits for its `run_at`; `running`: a worker holds it until "
        "`locked_until`; `dead`: out of attempts, kept until an admin retries it."
    )
    attempts: int = Field(description="Attempts so far (the running one included).")
    max_attempts: int = Field(description="Attempts before it is dead.")
    run_at: datetime = Field(
        description="When it runs (ready: next; running or dead: its last attempt's due time)."
    )
    locked_by: str | None = Field(description="The worker that holds it (`host:pid:id`).")
    locked_until: datetime | None = Field(
        description="When its lease runs out; another worker may take it after that."
    )
    last_error: str | None = Field(description="Why its last attempt failed.")
    created_at: datetime
    updated_at: datetime
    payload: dict[str, Any] = Field(description="What its handler works on: ids, never secrets.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7e6c1e-54a4-4b8e-9d0f-3f5c9b1f2a10",
                    "kind": "webhook.deliver",
                    "state": "dead",
                    "attempts": 8,
                    "max_attempts": 8,
                    "run_at": "2026-11-28T09:12:00Z",
                    "locked_by": None,
                    "locked_until": None,
                    "last_error": "HTTP 503 from the endpoint",
                    "created_at": "2026-11-27T14:02:11Z",
                    "updated_at": "2026-11-28T09:12:03Z",
                    "payload": {"delivery_id": "5d1c2b8e-1f0a-4c3e-8b7a-2e9f6d4c3b21"},
                }
            ]
        }
    )


class KindSummary(BaseModel):
    ready: int = Field(description="Jobs waiting to run (due now or scheduled later).")
    running: int = Field(description="Jobs a worker holds now.")
    dead: int = Field(description="Jobs out of attempts, waiting for an admin's retry.")
    retrying: int = Field(description="Ready jobs waiting for another try after a failure.")
    oldest_ready_age_seconds: float = Field(
        description="How long the oldest due ready job has waited for a worker (0: none waits)."
    )


class QueueSummary(KindSummary):
    by_kind: dict[str, KindSummary] = Field(description="The same figures, by job kind.")


class JobList(Page[JobRead]):
    """A page of jobs, with the whole queue's figures (whatever the filters)."""

    summary: QueueSummary

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "summary": {
                        "ready": 12,
                        "running": 4,
                        "dead": 1,
                        "retrying": 2,
                        "oldest_ready_age_seconds": 0.8,
                        "by_kind": {
                            "webhook.deliver": {
                                "ready": 12,
                                "running": 4,
                                "dead": 1,
                                "retrying": 2,
                                "oldest_ready_age_seconds": 0.8,
                            }
                        },
                    },
                    "data": [],
                    "next_cursor": None,
                }
            ]
        }
    )
