"""Prefect flows, deployments and the folder watcher: thin orchestration over the other packages."""
