"""Adapters to the outside world: HTTP probes, notifiers, and later Prometheus and logs."""
