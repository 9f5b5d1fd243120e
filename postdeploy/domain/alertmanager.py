"""The Alertmanager webhook payload (version 4) and what postdeploy keeps of it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from postdeploy.domain.values import Labels, Text, to_utc

ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)  # Alertmanager's "not set" endsAt


class AmAlert(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Labels = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: Text = Field(default="", alias="generatorURL")
    fingerprint: Text = Field(min_length=1, max_length=200)

    @field_validator("starts_at")
    @classmethod
    def _started(cls, value: datetime) -> datetime:
        value = to_utc(value)
        if value <= ZERO_TIME:
            raise ValueError("not set (the zero time)")
        return value

    @field_validator("ends_at")
    @classmethod
    def _ended(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = to_utc(value)
        return None if value <= ZERO_TIME else value

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "warning").lower()

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "unnamed")


class AmPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    version: Literal["4"]
    group_key: Text = Field(alias="groupKey", min_length=1)
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts")
    status: Literal["firing", "resolved"]
    receiver: Text = ""
    group_labels: Labels = Field(default_factory=dict, alias="groupLabels")
    common_labels: Labels = Field(default_factory=dict, alias="commonLabels")
    common_annotations: Labels = Field(default_factory=dict, alias="commonAnnotations")
    external_url: Text = Field(default="", alias="externalURL")
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
