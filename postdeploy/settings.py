"""Process settings from the environment (POSTDEPLOY_*), validated once and built lazily."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_catalog() -> Path:
    own = Path("postdeploy.yaml")
    return own if own.exists() else Path("data/postdeploy.yaml")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POSTDEPLOY_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///var/postdeploy.db",
        description="SQLAlchemy URL of the store (SQLite file or PostgreSQL).",
    )
    catalog: Path = Field(default_factory=_default_catalog, description="The catalog file.")
    reports_dir: Path = Field(default=Path("reports"), description="Where reports are written.")
    var_dir: Path = Field(default=Path("var"), description="Runtime state: logs, pids, stores.")
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8700, ge=1, le=65535)
    prefect_port: int = Field(default=4200, ge=1, le=65535)
    sample_port: int = Field(default=8801, ge=1, le=65535)
    serve_limit: int = Field(default=10, ge=1, description="Concurrent flow runs served by `up`.")
    execution: Literal["serve", "workers"] = Field(
        default="serve",
        description="`up` serves the deployments itself, or deploys them to the `postdeploy` "
        "work pool and leaves the runs to workers (docs/scaling.md).",
    )
    project_dir: Path | None = Field(
        default=None, description="The checkout workers run flows from; default this one."
    )
    store_retries: int = Field(default=3, ge=0)
    store_retry_delay_s: float = Field(default=2.0, ge=0)
    probe_concurrency: int = Field(default=1000, ge=1)
    probe_batch_size: int = Field(default=1000, ge=1)
    hooks_token: SecretStr | None = Field(
        default=None, description="Bearer token the hooks API requires (POSTDEPLOY_HOOKS_TOKEN)."
    )
    hooks_token_block: str | None = Field(
        default=None, description="Or: name of a Prefect Secret block holding that token."
    )
    hooks_max_body_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1024, description="Largest request body the hooks API reads."
    )
    hooks_rate_per_minute: float = Field(
        default=600, ge=0, description="Hooks API requests per minute per bearer token; 0: off."
    )
    hooks_rate_burst: int = Field(
        default=120, ge=1, description="Requests a token may send at once."
    )
    hooks_anonymous_rate_per_minute: float = Field(
        default=60, ge=0, description="Per client address, for requests without a valid token."
    )
    hooks_anonymous_rate_burst: int = Field(default=30, ge=1)
    incident_deployment: str = Field(
        default="incident-response/incident-response",
        description="Deployment started for a new critical alert group (flow/deployment).",
    )
    prefect_api_url: str | None = Field(
        default=None, description="Prefect API for the hooks API; default PREFECT_API_URL."
    )

    @field_validator("database_url")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("POSTDEPLOY_DATABASE_URL is empty")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
