"""The worker: runs the job queue (takt.core.jobs), the webhook relay and the periodic sweeps,
embedded in `takt serve` or as separate `takt worker` processes."""
