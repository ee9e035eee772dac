"""Domain-agnostic kit shared by every Takt module; imports no domain."""
