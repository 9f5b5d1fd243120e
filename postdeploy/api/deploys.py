"""POST /hooks/deploy: a CI/CD pipeline says a deploy happened; postdeploy records it and
starts the post-deploy-check deployment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from postdeploy.api.auth import TokenAuth
from postdeploy.api.prefect_runs import PrefectRuns, RunStartError
from postdeploy.api.responses import problems
from postdeploy.catalog import CatalogError, load_catalog
from postdeploy.domain.values import Text, UtcDatetime
from postdeploy.settings import Settings
from postdeploy.store.deployments import get_deployment, record_deployment

POST_DEPLOY = "post-deploy-check/post-deploy-check"


class DeployEvent(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"service": "sample", "version": "1.4.2", "commit": "4f2c9e1"}]
        },
    )

    service: Text = Field(min_length=1, max_length=100)
    version: Text = Field(min_length=1, max_length=200)
    environment: Text = Field(default="production", min_length=1, max_length=50)
    commit: Text | None = Field(default=None, max_length=100)
    committed_at: UtcDatetime | None = Field(
        default=None, description="Commit time, for lead time (no zone: UTC)."
    )
    canary_window_s: float | None = Field(
        default=None, ge=0, le=3600, strict=True, description="How long to watch after the deploy."
    )


class DeployAccepted(BaseModel):
    deployment_id: int
    new: bool
    flow_run_id: str


class DeployStatus(BaseModel):
    deployment_id: int
    service: str
    version: str
    environment: str
    verdict: str | None
    flow_run_state: str | None


# a row id the store can hold: the id column is a 32-bit INTEGER on PostgreSQL
DeploymentId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def router(settings: Settings, engine: Engine, runs: PrefectRuns, auth: TokenAuth) -> APIRouter:
    api = APIRouter()

    def record(event: DeployEvent) -> tuple[int, bool, str]:
        try:
            services = {s.name for s in load_catalog(settings.catalog).services}
        except CatalogError as exc:
            raise HTTPException(503, f"catalog unusable: {exc}") from None
        if event.service not in services:
            raise HTTPException(
                404, f"unknown service {event.service!r}: not in {settings.catalog}"
            )
        with engine.begin() as conn:
            deployment_id, new = record_deployment(
                conn,
                service=event.service,
                version=event.version,
                environment=event.environment,
                commit=event.commit,
                committed_at=event.committed_at,
                deployed_at=datetime.now(UTC),
            )
            row = get_deployment(conn, deployment_id=deployment_id)
        # the row's id alone could repeat across stores (a restored or new store numbers from 1
        # again, while the Prefect server remembers keys): its recording time makes it unique
        stamp = row["deployed_at"].timestamp() if row else 0.0
        return deployment_id, new, f"deploy:{deployment_id}:{stamp:.6f}"

    @api.post(
        "/hooks/deploy",
        dependencies=[Depends(auth)],
        response_model=DeployAccepted,
        status_code=202,
        summary="Record a deploy and start its post-deploy checks",
        responses=problems(
            401, 503, s400="The body is not JSON.", s404="The service is not in the catalog."
        ),
    )
    async def deploy(event: DeployEvent) -> DeployAccepted:
        deployment_id, new, key = await run_in_threadpool(record, event)
        try:
            run = await runs.start(
                POST_DEPLOY,
                parameters={
                    "service": event.service,
                    "version": event.version,
                    "environment": event.environment,
                    "deployment_id": deployment_id,
                    **(
                        {"canary_window_s": event.canary_window_s}
                        if event.canary_window_s is not None
                        else {}
                    ),
                },
                idempotency_key=key,
                tags=["deploy-hook", event.service],
            )
        except RunStartError as exc:
            raise HTTPException(503, f"deployment {deployment_id} recorded; {exc}") from None
        return DeployAccepted(deployment_id=deployment_id, new=new, flow_run_id=run)

    @api.get(
        "/hooks/deploy/{deployment_id}",
        dependencies=[Depends(auth)],
        response_model=DeployStatus,
        summary="A recorded deploy and its post-deploy verdict (null until judged)",
        responses=problems(401, 503, s404="No deployment with that id."),
    )
    async def deploy_status(
        deployment_id: DeploymentId, flow_run: UUID | None = None
    ) -> DeployStatus:
        def read() -> dict[str, Any] | None:
            with engine.connect() as conn:
                return get_deployment(conn, deployment_id=deployment_id)

        row = await run_in_threadpool(read)
        if row is None:
            raise HTTPException(404, f"no deployment {deployment_id}")
        state = await runs.state(str(flow_run)) if flow_run else None
        return DeployStatus(
            deployment_id=deployment_id,
            service=row["service"],
            version=row["version"],
            environment=row["environment"],
            verdict=row["verdict"],
            flow_run_state=state,
        )

    return api
