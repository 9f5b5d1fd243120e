"""Prefect flows: one module per schedule or runbook; deployments.py builds every deployment."""
