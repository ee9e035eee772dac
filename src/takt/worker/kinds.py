"""What the worker runs: every domain's job kinds and pumps, and the periodic sweeps.

A domain adds a kind by declaring a `JobKind` in its own `jobs.py` (`takt.webhooks.jobs`) and
listing it here; the worker sits above every domain, so it may import them all.
"""

from __future__ import annotations

from takt.blockers import jobs as blocker_jobs
from takt.core.jobs import Job, JobContext, JobKind, Pump, Sweep
from takt.integrations import jobs as integration_jobs
from takt.metrics import jobs as metric_jobs
from takt.standups import jobs as standup_jobs
from takt.webhooks import jobs as webhook_jobs
from takt.worker.sweeps import SWEEPS

SWEEP_PREFIX = "sweep."
# A sweep that fails is tried again a few times; its next slot comes anyway.
SWEEP_MAX_ATTEMPTS = 3
SWEEP_TIMEOUT_SECONDS = 600.0


def sweeps() -> list[Sweep]:
    """The worker's own sweeps and each domain's (a domain lists its own in its `jobs.py`)."""
    return [*SWEEPS, *blocker_jobs.SWEEPS, *standup_jobs.SWEEPS, *metric_jobs.SWEEPS]


def sweep_kind(sweep: Sweep) -> JobKind:
    """The job kind that runs `sweep` (`sweep.<name>`)."""

    async def run(ctx: JobContext, _job: Job) -> None:
        await sweep.run(ctx)

    return JobKind(
        name=f"{SWEEP_PREFIX}{sweep.name}",
        run=run,
        max_attempts=SWEEP_MAX_ATTEMPTS,
        timeout_seconds=SWEEP_TIMEOUT_SECONDS,
    )


def job_kinds() -> list[JobKind]:
    """Every kind a worker runs: the sweeps' and each domain's."""
    kinds = [*(sweep_kind(s) for s in sweeps()), *webhook_jobs.JOB_KINDS]
    kinds += integration_jobs.JOB_KINDS
    names = [kind.name for kind in kinds]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"job kinds declared twice: {duplicates}")
    return kinds


def pumps() -> list[Pump]:
    """Work every worker keeps doing while there is some (the webhook relay)."""
    return list(webhook_jobs.PUMPS)
