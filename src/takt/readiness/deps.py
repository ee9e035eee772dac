"""FastAPI dependencies of readiness: the resources in its paths, loaded through the
visibility rule."""
