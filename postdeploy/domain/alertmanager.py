"""The Alertmanager webhook payload (version 4) and what postdeploy keeps of it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)  # Alertmanager's "not set" endsAt


class AmAlert(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: str = Field(min_length=1, max_length=200)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return None if value <= ZERO_TIME else value.astimezone(UTC)

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "warning").lower()

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "unnamed")


class AmPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    version: Literal["4"]
    group_key: str = Field(alias="groupKey", min_length=1)
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts")
    status: Literal["firing", "resolved"]
    receiver: str = ""
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    alerts: list[AmAlert]

    def critical_firing(self) -> list[AmAlert]:
        return [a for a in self.alerts if a.status == "firing" and a.severity == "critical"]

    def incident_key(self) -> str | None:
        """Stable for the life of the group's oldest critical alert: retries and HA duplicates
        of the same group start one incident run, not many."""
        critical = self.critical_firing()
        if not critical:
            return None
        first = min(a.starts_at for a in critical)
        return f"alertmanager:{self.group_key}:{first.isoformat()}"
