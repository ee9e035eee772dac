"""Operational endpoints: health, readiness, metrics and the problem catalogue."""
