"""Planning poker: sessions over items, hidden votes, the reveal with the spread and the
calibration, finalize."""
