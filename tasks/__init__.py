"""Prefect tasks: thin wrappers over postdeploy adapters, with retries and timeouts."""
