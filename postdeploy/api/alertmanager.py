"""POST /hooks/alertmanager: the Alertmanager webhook receiver (payload version 4)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Engine

from postdeploy.api.auth import TokenAuth
from postdeploy.api.batching import GroupCommitter
from postdeploy.api.prefect_runs import PrefectRuns, RunStartError
from postdeploy.api.responses import Problem, problems
from postdeploy.domain.alertmanager import AmPayload
from postdeploy.settings import Settings
from postdeploy.store.received_alerts import store_received


class Stored(BaseModel):
    stored: int
    duplicates: int
    incident_run: str | None
    error: str | None = None


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema with its `$defs` inlined, to stand alone in an OpenAPI one."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(defs[node["$ref"].rsplit("/", 1)[1]])
            return {k: walk(v) for k, v in node.items()}
        return [walk(v) for v in node] if isinstance(node, list) else node

    return dict(walk(schema))


# the route parses the body itself (a 400 naming the field, not FastAPI's 422), so the
# schema is declared here for the OpenAPI document
EXAMPLE = {
    "version": "4",
    "groupKey": '{}:{alertname="HighErrorRate"}',
    "status": "firing",
    "receiver": "postdeploy",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighErrorRate", "service": "sample", "severity": "critical"},
            "annotations": {"summary": "sample error rate is 7%"},
            "startsAt": "2026-11-27T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "fingerprint": "7c2b9e0d1a4f5e36",
        }
    ],
}
REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": inline_refs(AmPayload.model_json_schema(by_alias=True)),
            "example": EXAMPLE,
        }
    },
}


def parse(body: bytes) -> AmPayload:
    # strict JSON mode: what the schema says, no coercion (no number for a time, no "5" for 5)
    try:
        return AmPayload.model_validate_json(body, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":  # bad JSON, not UTF-8, nested too deeply
            raise HTTPException(400, f"not JSON: {first['msg']}") from None
        where = ".".join(str(p) for p in first["loc"])
        raise HTTPException(
            400, f"not an Alertmanager v4 payload: {where}: {first['msg']}"
        ) from None


def router(settings: Settings, engine: Engine, runs: PrefectRuns, auth: TokenAuth) -> APIRouter:
    api = APIRouter()

    def store(conn: Connection, payload: AmPayload) -> tuple[int, int]:
        return store_received(conn, alerts=payload.alerts)

    committer: GroupCommitter[AmPayload, tuple[int, int]] = GroupCommitter(engine, store)

    @api.post(
        "/hooks/alertmanager",
        dependencies=[Depends(auth)],
        summary="Alertmanager webhook (payload version 4)",
        response_model=Stored,
        responses={
            **problems(400, 401, 503),
            503: {
                "model": Stored | Problem,
                "description": "Stored, but the incident run could not be started (`error`), "
                "or no hooks token is configured (`detail`).",
            },
        },
        openapi_extra={"requestBody": REQUEST_BODY},
    )
    async def alertmanager(request: Request) -> JSONResponse:
        # the BodyLimit middleware has already refused a body over the limit
        payload = parse(await request.body())
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
