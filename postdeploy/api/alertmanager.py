"""POST /hooks/alertmanager: the Alertmanager webhook receiver (payload version 4)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy import Connection, Engine

from postdeploy.api.auth import TokenAuth
from postdeploy.api.batching import GroupCommitter
from postdeploy.api.prefect_runs import PrefectRuns, RunStartError
from postdeploy.domain.alertmanager import AmPayload
from postdeploy.settings import Settings
from postdeploy.store.received_alerts import store_received


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body of {declared} bytes is over the {limit} byte limit")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"body is over the {limit} byte limit")
    return bytes(body)


def parse(body: bytes) -> AmPayload:
    try:
        return AmPayload.model_validate(json.loads(body))
    except json.JSONDecodeError as exc:
        raise HTTPException(400, f"not JSON: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise HTTPException(
            400, f"not an Alertmanager v4 payload: {where}: {first['msg']}"
        ) from None


def router(settings: Settings, engine: Engine, runs: PrefectRuns) -> APIRouter:
    api = APIRouter()
    auth = TokenAuth(settings)

    def store(conn: Connection, payload: AmPayload) -> tuple[int, int]:
        return store_received(conn, alerts=payload.alerts)

    committer: GroupCommitter[AmPayload, tuple[int, int]] = GroupCommitter(engine, store)

    @api.post("/hooks/alertmanager", dependencies=[Depends(auth)], summary="Alertmanager webhook")
    async def alertmanager(request: Request) -> JSONResponse:
        payload = parse(await read_body(request, settings.hooks_max_body_bytes))
        new, duplicates = await committer.submit(payload)
        body: dict[str, Any] = {"stored": new, "duplicates": duplicates, "incident_run": None}
        key = payload.incident_key()
        if key and new:
            first = payload.critical_firing()[0]
            try:
                body["incident_run"] = await runs.start(
                    settings.incident_deployment,
                    parameters={
                        "service": first.labels.get("service") or first.labels.get("job", ""),
                        "severity": "critical",
                        "summary": first.annotations.get("summary", first.name),
                    },
                    idempotency_key=key,
                    tags=["alertmanager"],
                )
            except RunStartError as exc:
                # stored; a non-2xx makes Alertmanager retry, and the key keeps it to one run
                return JSONResponse({**body, "error": str(exc)}, status_code=503)
        return JSONResponse(body)

    return api
