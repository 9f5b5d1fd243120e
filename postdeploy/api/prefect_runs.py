"""Start deployment runs through the Prefect REST API (webhooks are a Prefect Cloud feature)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

RETRIES_503 = 5


class RunStartError(RuntimeError):
    pass


class PrefectRuns:
    def __init__(self, api_url: str | None, timeout: float = 5.0) -> None:
        self.api_url = api_url.rstrip("/") if api_url else None
        self.timeout = timeout
        self._ids: dict[str, str] = {}

    async def state(self, flow_run_id: str) -> str | None:
        """The run's state type (SCHEDULED, RUNNING, COMPLETED, FAILED, CRASHED...), if known."""
        if not self.api_url:
            return None
        try:
            async with httpx.AsyncClient(base_url=self.api_url, timeout=self.timeout) as client:
                found = await client.get(f"/flow_runs/{flow_run_id}")
                if found.status_code != 200:
                    return None
                state = found.json().get("state") or {}
                return str(state.get("type")) if state.get("type") else None
        except httpx.HTTPError:
            return None

    async def start(
        self, deployment: str, *, parameters: dict[str, Any], idempotency_key: str, tags: list[str]
    ) -> str:
        """Create a flow run of `flow/deployment`; the same key returns the same run."""
        if not self.api_url:
            raise RunStartError("no Prefect API configured (PREFECT_API_URL)")
        try:
            async with httpx.AsyncClient(base_url=self.api_url, timeout=self.timeout) as client:
                if deployment not in self._ids:
                    found = await client.get(f"/deployments/name/{deployment}")
                    if found.status_code == 404:
                        raise RunStartError(f"deployment {deployment} not found")
                    found.raise_for_status()
                    self._ids[deployment] = found.json()["id"]
                body = {"parameters": parameters, "idempotency_key": idempotency_key, "tags": tags}
                url = f"/deployments/{self._ids[deployment]}/create_flow_run"
                # a Prefect server on SQLite answers 503 while its database is busy; the
                # idempotency key makes trying again safe
                for attempt in range(RETRIES_503):
                    run = await client.post(url, json=body)
                    if run.status_code != 503 or attempt == RETRIES_503 - 1:
                        break
                    await asyncio.sleep(0.2 * 2**attempt)
                run.raise_for_status()
                return str(run.json()["id"])
        except httpx.HTTPError as exc:
            raise RunStartError(f"Prefect API: {type(exc).__name__}: {exc}") from None
