"""Projects, their settings and members: the unit of visibility in Takt."""
