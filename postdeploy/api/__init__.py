"""The hooks HTTP API (FastAPI): deploy hook, Alertmanager receiver, health."""
