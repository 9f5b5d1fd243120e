"""The hooks API application: the deploy hook, the Alertmanager receiver and /healthz, behind
the body size and rate limits."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from postdeploy import __version__
from postdeploy.api import alertmanager, deploys
from postdeploy.api.auth import TokenAuth
from postdeploy.api.limits import BodyLimit, RateLimit, TokenBuckets
from postdeploy.api.prefect_runs import PrefectRuns
from postdeploy.api.responses import problems
from postdeploy.settings import Settings, get_settings
from postdeploy.store.engine import make_engine, mask_url


class Health(BaseModel):
    status: str
    version: str
    checks: dict[str, dict[str, Any]]


def create_app(settings: Settings | None = None, prefect_api_url: str | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    prefect_api_url = prefect_api_url or settings.prefect_api_url
    runs = PrefectRuns(prefect_api_url or os.environ.get("PREFECT_API_URL"))
    auth = TokenAuth(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(title="postdeploy hooks API", version=__version__, lifespan=lifespan)
    app.include_router(alertmanager.router(settings, engine, runs, auth))
    app.include_router(deploys.router(settings, engine, runs, auth))
    # added last, run first: a request over its rate is refused before its body is read
    app.add_middleware(BodyLimit, limit=settings.hooks_max_body_bytes)
    app.add_middleware(
        RateLimit,
        auth=auth,
        tokens=TokenBuckets(settings.hooks_rate_per_minute, settings.hooks_rate_burst),
        anonymous=TokenBuckets(
            settings.hooks_anonymous_rate_per_minute, settings.hooks_anonymous_rate_burst
        ),
    )

    @app.get(
        "/healthz",
        summary="Liveness and dependencies",
        response_model=Health,
        responses={
            **problems(),
            503: {"model": Health, "description": "Degraded: `checks` names what is down."},
        },
    )
    def healthz() -> JSONResponse:
        checks: dict[str, Any] = {}
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
            checks["store"] = {"ok": True, "url": mask_url(settings.database_url)}
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            checks["store"] = {"ok": False, "url": mask_url(settings.database_url), "error": reason}
        if prefect_api_url:
            try:
                ok = httpx.get(f"{prefect_api_url}/health", timeout=2).status_code == 200
                checks["prefect"] = {"ok": ok}
            except httpx.HTTPError as exc:
                checks["prefect"] = {"ok": False, "error": type(exc).__name__}
        healthy = all(c["ok"] for c in checks.values())
        body = {"status": "ok" if healthy else "degraded", "version": __version__, "checks": checks}
        return JSONResponse(body, status_code=200 if healthy else 503)

    return app
