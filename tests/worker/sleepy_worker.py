"""`takt worker` as the command runs it, with one more job kind for the process tests:
`test.sleep` sleeps for its payload's `seconds`. Run as `python -m tests.worker.sleepy_worker
[OPTIONS]` (the options of `takt worker`)."""

from __future__ import annotations

import asyncio
import sys

from takt.cli import app
from takt.core.jobs import Job, JobContext, JobKind
from takt.worker import kinds

SLEEP = "test.sleep"


async def sleep(_ctx: JobContext, job: Job) -> None:
    await asyncio.sleep(float(job.payload["seconds"]))


def _with_sleep(declared: list[JobKind]) -> list[JobKind]:
    return [*declared, JobKind(SLEEP, sleep)]


if __name__ == "__main__":
    production = kinds.job_kinds
    kinds.job_kinds = lambda: _with_sleep(production())
    app(["worker", *sys.argv[1:]], prog_name="takt")
