"""Readiness: "is this ready to go to that environment?", a checklist evaluated on demand for a
commit or a set of items, with each project's choice of checks."""
