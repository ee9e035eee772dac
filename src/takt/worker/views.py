"""Jobs and the queue's figures to the API's response shapes."""

from __future__ import annotations

from takt.core.jobs import Job, KindStats, QueueStats
from takt.worker.schemas import JobRead, KindSummary, QueueSummary


def job_read(job: Job) -> JobRead:
    return JobRead(
        id=job.id,
        kind=job.kind,
        state=job.state,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        run_at=job.run_at,
        locked_by=job.locked_by,
        locked_until=job.locked_until,
        last_error=job.last_error,
        created_at=job.created_at,
        updated_at=job.updated_at,
        payload=job.payload,
    )


def _figures(stats: KindStats) -> dict[str, int | float]:
    return {
        "ready": stats.ready,
        "running": stats.running,
        "dead": stats.dead,
        "retrying": stats.retrying,
        "oldest_ready_age_seconds": round(stats.oldest_ready_age_seconds, 3),
    }


def queue_summary_read(stats: QueueStats) -> QueueSummary:
    return QueueSummary(
        **_figures(stats.total),
        by_kind={kind: KindSummary(**_figures(s)) for kind, s in stats.by_kind.items()},
    )
