"""The metrics' sweep: each project's flow snapshots for the days that closed (snapshots.py)."""

from __future__ import annotations

from datetime import timedelta

from takt.core.jobs import Sweep
from takt.metrics.snapshots import sweep_flow_snapshots

# Hourly: a day is written within the hour after it closes in the project's time zone; until
# then (and for today) the answer adds the event log's moves to the last written day.
SWEEPS: tuple[Sweep, ...] = (Sweep("flow-snapshots", timedelta(hours=1), sweep_flow_snapshots),)
