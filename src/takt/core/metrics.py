"""Prometheus metrics: requests by route template and status, database pool gauges, the jobs
this process's worker ran, and the job queue as the database holds it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from takt.core.direct import DirectReader
from takt.core.jobs import KindStats, QueueStats


class Metrics:
    """One registry per app, so tests and several apps in one process don't collide.

    With several worker processes (`takt serve --workers N` sets PROMETHEUS_MULTIPROC_DIR),
    each process writes its counts to files in that directory and `registry` adds up every
    process's files, so a scrape answered by any worker shows the totals. The database pool
    gauges are read live, so they describe the worker that answered."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        # In multi-process mode the values live in the files, read by the collector; the
        # metric objects must not also be registered, or each would be counted twice.
        own = None if self.multiprocess else self.registry
        if self.multiprocess:
            multiprocess.MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]
        self.requests = Counter(
            "takt_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=own,
        )
        self.latency = Histogram(
            "takt_http_request_duration_seconds",
            "HTTP request latency by method and route template.",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=own,
        )
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        # Counted by the worker of this process (embedded, or `takt worker` with
        # --metrics-port); the queue itself is read from the database at scrape time.
        self.jobs = Counter(
            "takt_worker_jobs",
            "Job attempts this process ran, by kind and outcome (succeeded, retried, dead).",
            ["kind", "outcome"],
            registry=own,
        )
        self.job_duration = Histogram(
            "takt_worker_job_duration_seconds",
            "How long job attempts of this process ran, by kind.",
            ["kind"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=own,
        )

    def request_done(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count a request and its latency. The labelled children are kept per label set:
        `labels()` takes a lock and builds its key each time, a few percent of a short read."""
        key = (method, route, status)
        children = self._request_children.get(key)
        if children is None:
            children = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
            self._request_children[key] = children
        count, latency = children
        count.inc()
        latency.observe(seconds)

    def job_ran(self, kind: str, outcome: str, seconds: float) -> None:
        self.jobs.labels(kind, outcome).inc()
        self.job_duration.labels(kind).observe(seconds)

    def close(self) -> None:
        """The worker is stopping: drop its live-gauge files (counters and histograms stay,
        since the totals include what this process counted)."""
        if self.multiprocess:
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    def watch_pools(self, pools: Callable[[], Iterable[tuple[str, Pool]]]) -> None:
        """Gauges of the named connection pools (`Database.pools`): the engines' and, on
        PostgreSQL, the direct reads' (`takt.core.direct`)."""
        self.registry.register(_PoolCollector(pools))


# A pool to watch: an engine's (SQLAlchemy's pool) or the direct reads' (asyncpg's).
Pool = AsyncEngine | DirectReader


class _PoolCollector(Collector):
    def __init__(self, pools: Callable[[], Iterable[tuple[str, Pool]]]) -> None:
        self._pools = pools

    def collect(self) -> Iterable[Metric]:
        checked_out = GaugeMetricFamily(
            "takt_db_pool_checked_out", "Connections in use.", labels=["pool"]
        )
        idle = GaugeMetricFamily("takt_db_pool_idle", "Idle connections.", labels=["pool"])
        size = GaugeMetricFamily("takt_db_pool_size", "Configured pool size.", labels=["pool"])
        overflow = GaugeMetricFamily(
            "takt_db_pool_overflow", "Connections beyond the pool size.", labels=["pool"]
        )
        for name, watched in self._pools():
            if isinstance(watched, DirectReader):
                in_use, idle_now, most = watched.figures()
                checked_out.add_metric([name], float(in_use))
                idle.add_metric([name], float(idle_now))
                size.add_metric([name], float(most))
                overflow.add_metric([name], 0.0)  # asyncpg's pool never grows past its size
                continue
            pool = watched.sync_engine.pool
            for family, attr in (
                (checked_out, "checkedout"),
                (idle, "checkedin"),
                (size, "size"),
                (overflow, "overflow"),
            ):
                reader = getattr(pool, attr, None)
                if callable(reader):
                    family.add_metric([name], float(reader()))
        yield from (checked_out, idle, size, overflow)


# The queue's gauges: metric name, help, and the figure it takes from a kind's stats.
_QUEUE_GAUGES: tuple[tuple[str, str, Callable[[KindStats], float]], ...] = (
    ("takt_jobs_ready", "Jobs waiting to run (due or scheduled later).", lambda k: k.ready),
    ("takt_jobs_running", "Jobs a worker holds now.", lambda k: k.running),
    (
        "takt_jobs_dead",
        "Jobs that used up their attempts; an admin may retry them.",
        lambda k: k.dead,
    ),
    (
        "takt_jobs_retrying",
        "Ready jobs waiting for another try after a failure.",
        lambda k: k.retrying,
    ),
    (
        "takt_jobs_attempts",
        "Attempts made so far by the jobs still ready or running.",
        lambda k: k.attempts,
    ),
    (
        "takt_jobs_oldest_ready_age_seconds",
        "How long the oldest due ready job has waited for a worker.",
        lambda k: k.oldest_ready_age_seconds,
    ),
)


def queue_exposition(stats: QueueStats) -> bytes:
    """The queue as Prometheus text, by kind, to append to a scrape. Gauges are read from the
    database, so they describe every worker process whichever process answers."""
    registry = CollectorRegistry()
    registry.register(_QueueCollector(stats))
    return generate_latest(registry)


class _QueueCollector(Collector):
    def __init__(self, stats: QueueStats) -> None:
        self._stats = stats

    def collect(self) -> Iterable[Metric]:
        for name, description, figure in _QUEUE_GAUGES:
            family = GaugeMetricFamily(name, description, labels=["kind"])
            for kind, stats in self._stats.by_kind.items():
                family.add_metric([kind], float(figure(stats)))
            yield family
