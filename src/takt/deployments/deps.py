"""FastAPI dependencies of deployments: the resources in its paths, loaded through the
visibility rule."""
