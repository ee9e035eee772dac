"""Prometheus metrics: requests by route template and status, and database pool gauges."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine


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

    def close(self) -> None:
        """The worker is stopping: drop its live-gauge files (counters and histograms stay,
        since the totals include what this process counted)."""
        if self.multiprocess:
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    def watch_pools(self, engines: Callable[[], Iterable[tuple[str, AsyncEngine]]]) -> None:
        self.registry.register(_PoolCollector(engines))


class _PoolCollector(Collector):
    def __init__(self, engines: Callable[[], Iterable[tuple[str, AsyncEngine]]]) -> None:
        self._engines = engines

    def collect(self) -> Iterable[Metric]:
        checked_out = GaugeMetricFamily(
            "takt_db_pool_checked_out", "Connections in use.", labels=["pool"]
        )
        idle = GaugeMetricFamily("takt_db_pool_idle", "Idle connections.", labels=["pool"])
        size = GaugeMetricFamily("takt_db_pool_size", "Configured pool size.", labels=["pool"])
        overflow = GaugeMetricFamily(
            "takt_db_pool_overflow", "Connections beyond the pool size.", labels=["pool"]
        )
        for name, engine in self._engines():
            pool = engine.sync_engine.pool
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
