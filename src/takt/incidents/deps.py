"""FastAPI dependencies of incidents: the resources in its paths, loaded through the
visibility rule."""
