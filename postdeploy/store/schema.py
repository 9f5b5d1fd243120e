"""The store's tables (SQLAlchemy 2 Core). Natural keys make every write an idempotent upsert."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

from postdeploy.domain.uptime import LATENCY_BUCKETS

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC on every backend, returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store takes timezone-aware values")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return parsed.replace(tzinfo=UTC)


def _id() -> Column[int]:
    return Column("id", Integer, primary_key=True, autoincrement=True)


service = Table(
    "service",
    metadata,
    _id(),
    Column("name", String(100), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("owner", String(200), nullable=False, default=""),
    Column("tier", Integer, nullable=False, default=2),
    Column("url", Text),
    Column("active_url", Text),
    Column("standby_url", Text),
    Column("updated_at", UTCDateTime, nullable=False),
)

check_result = Table(
    "check_result",
    metadata,
    _id(),
    Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), nullable=False),
    Column("check_name", String(100), nullable=False),
    Column("sweep_id", String(64), nullable=False),
    Column("ts", Float, nullable=False, comment="epoch seconds"),
    Column("ok", Boolean, nullable=False),
    Column("status", Integer),
    Column("latency_ms", Float),
    Column("detail", Text, nullable=False, default=""),
    Column("cert_expires_at", Float),
    UniqueConstraint("sweep_id", "service_id", "check_name", name="uq_check_result_sweep"),
    Index("ix_check_result_service_ts", "service_id", "check_name", "ts"),
    # covers the period aggregates (availability, SLO counts): they read the index alone
    Index("ix_check_result_ts", "ts", "service_id", "ok", "latency_ms"),
)

# One row per service, check and UTC day (floor(ts / 86400)), kept by record_sweep in the
# same transaction as the results: the uptime report and status page read it instead of
# every check_result in their window. lat_NN count ok results per latency bucket
# (postdeploy.domain.uptime.LATENCY_BOUNDS); demo counts results of demo sweeps.
LATENCY_COLUMNS = tuple(f"lat_{i:02d}" for i in range(LATENCY_BUCKETS))

check_daily = Table(
    "check_daily",
    metadata,
    Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
    Column("check_name", String(100), primary_key=True),
    Column("day", Integer, primary_key=True, comment="UTC days since the epoch"),
    Column("ok", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("demo", Integer, nullable=False),
    Column("latency_n", Integer, nullable=False, comment="ok results with a latency"),
    Column("latency_sum", Float, nullable=False),
    Column("latency_min", Float),
    Column("latency_max", Float),
    *(Column(name, Integer, nullable=False) for name in LATENCY_COLUMNS),
)

check_state = Table(
    "check_state",
    metadata,
    Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
    Column("check_name", String(100), primary_key=True),
    Column("status", String(10), nullable=False),
    Column("failures", Integer, nullable=False, default=0),
    Column("since", Float, nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Column("last_sweep_id", String(64)),
)

metric_series = Table(
    "metric_series",
    metadata,
    _id(),
    Column("name", String(200), nullable=False),
    Column("labels_key", String(1000), nullable=False, comment="sorted k=v pairs joined by ,"),
    Column("labels", JSON, nullable=False),
    UniqueConstraint("name", "labels_key", name="uq_metric_series_name"),
)

metric_sample = Table(
    "metric_sample",
    metadata,
    Column("series_id", ForeignKey("metric_series.id", ondelete="CASCADE"), primary_key=True),
    Column("ts", BigInteger, primary_key=True, comment="epoch seconds"),
    Column("value", Float, nullable=False),
)

scrape_state = Table(
    "scrape_state",
    metadata,
    Column("service", String(100), primary_key=True),
    Column("ts", Float, nullable=False, comment="epoch seconds of the last scrape"),
    Column("samples", JSON, nullable=False, comment="[[name, [[label, value]...], value]...]"),
)

alert = Table(
    "alert",
    metadata,
    _id(),
    Column("fingerprint", String(200), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime),
    Column("status", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("service", String(100)),
    Column("severity", String(20), nullable=False, default="warning"),
    Column("summary", Text, nullable=False, default=""),
    Column("labels", JSON, nullable=False, default=dict),
    Column("annotations", JSON, nullable=False, default=dict),
    Column("source", String(50), nullable=False, default="postdeploy"),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("fingerprint", "starts_at", name="uq_alert_fingerprint"),
)

incident = Table(
    "incident",
    metadata,
    _id(),
    Column("key", String(100), nullable=False, unique=True),
    Column("service", String(100), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("level", String(4), nullable=False),
    Column("status", String(20), nullable=False),
    Column("title", Text, nullable=False),
    Column("commander", String(200)),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime),
    Column("mitigated_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
)

incident_event = Table(
    "incident_event",
    metadata,
    _id(),
    Column("incident_id", ForeignKey("incident.id", ondelete="CASCADE"), nullable=False),
    Column("ts", UTCDateTime, nullable=False),
    Column("kind", String(50), nullable=False),
    Column("actor", String(200), nullable=False, default="postdeploy"),
    Column("message", Text, nullable=False, default=""),
    Column("data", JSON, nullable=False, default=dict),
    UniqueConstraint("incident_id", "ts", "kind", name="uq_incident_event_incident_id"),
)

ticket = Table(
    "ticket",
    metadata,
    _id(),
    Column("source", String(50), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("service", String(100)),
    Column("title", Text, nullable=False, default=""),
    Column("category", String(200)),
    Column("priority", String(20), nullable=False),
    Column("status", String(30), nullable=False),
    Column("level", String(4), nullable=False, default="L1"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("first_response_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("updated_at", UTCDateTime),
    Column("assignee", String(200)),
    Column(
        "sla_crossed",
        Integer,
        nullable=False,
        default=0,
        server_default="0",
        comment="SLA thresholds already escalated: bits of postdeploy.domain.sla.Crossed",
    ),
    Column("escalated_at", UTCDateTime),
    Column("resolution", Text, comment="How it was resolved (close notes), from the import"),
    UniqueConstraint("source", "external_id", name="uq_ticket_source"),
    Index("ix_ticket_status", "status"),
)

ticket_event = Table(
    "ticket_event",
    metadata,
    _id(),
    Column("ticket_id", ForeignKey("ticket.id", ondelete="CASCADE"), nullable=False),
    Column("ts", UTCDateTime, nullable=False),
    Column("kind", String(50), nullable=False),
    Column("from_status", String(30)),
    Column("to_status", String(30)),
    Column("actor", String(200)),
    Column("data", JSON, nullable=False, default=dict),
    UniqueConstraint("ticket_id", "ts", "kind", name="uq_ticket_event_ticket_id"),
)

survey_response = Table(
    "survey_response",
    metadata,
    _id(),
    Column("source", String(50), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("service", String(100)),
    Column("segment", String(200)),
    Column("submitted_at", UTCDateTime, nullable=False),
    Column("nps", Integer),
    Column("csat", Integer),
    Column("ces", Integer),
    Column("comment", Text),
    UniqueConstraint("source", "external_id", name="uq_survey_response_source"),
)

deployment = Table(
    "deployment",
    metadata,
    _id(),
    Column("service", String(100), nullable=False),
    Column("version", String(200), nullable=False),
    Column("environment", String(50), nullable=False, default="production"),
    Column("commit", String(100)),
    Column("committed_at", UTCDateTime),
    Column("deployed_at", UTCDateTime, nullable=False),
    Column("verdict", String(20)),
    Column("failed", Boolean),
    Column("recovered_at", UTCDateTime),
    UniqueConstraint(
        "service", "version", "environment", "deployed_at", name="uq_deployment_service"
    ),
)

backup = Table(
    "backup",
    metadata,
    _id(),
    Column("location", Text, nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False, default="unverified"),
    Column("verified_at", UTCDateTime),
)

kpi_snapshot = Table(
    "kpi_snapshot",
    metadata,
    _id(),
    Column("period", String(20), nullable=False),
    Column("scope", String(100), nullable=False, default="", comment="service name, '' = overall"),
    Column("metric", String(100), nullable=False),
    Column("value", Float),  # NULL = no data
    Column("unit", String(30), nullable=False, default="", server_default=""),
    Column("n", Integer, nullable=False, default=0, server_default="0"),
    Column("note", Text, nullable=False, default="", server_default=""),
    Column("tier", String(10), comment="DORA performance tier, for the DORA metrics"),
    Column("computed_at", UTCDateTime, nullable=False),
    UniqueConstraint("period", "scope", "metric", name="uq_kpi_snapshot_period"),
)

# Alerting (postdeploy.store.alerts): rule alerts waiting out their `for`, silences, alert
# groups per receiver with what each was last told, and the log of notifications sent.
alert_pending = Table(
    "alert_pending",
    metadata,
    Column("fingerprint", String(200), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("since", UTCDateTime, nullable=False),
)

silence = Table(
    "silence",
    metadata,
    _id(),
    Column("matchers", JSON, nullable=False, comment='["service=api", ...], all must match'),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False, default=""),
    Column("comment", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_silence_ends_at", "ends_at"),
)

alert_group = Table(
    "alert_group",
    metadata,
    _id(),
    Column("group_key", String(250), nullable=False),
    Column("receiver", String(100), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_flush_at", UTCDateTime),
    Column("last_notified_at", UTCDateTime),
    Column(
        "last_digest",
        JSON,
        nullable=False,
        comment='{"firing": [fingerprint...], "resolved": [...]}: what the receiver was told',
    ),
    UniqueConstraint("group_key", "receiver", name="uq_alert_group_group_key"),
)

alert_notification = Table(
    "alert_notification",
    metadata,
    _id(),
    Column("group_key", String(250), nullable=False),
    Column("receiver", String(100), nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("firing", Integer, nullable=False),
    Column("resolved", Integer, nullable=False),
    Column("title", Text, nullable=False, default=""),
    Column("fingerprints", JSON, nullable=False),
    UniqueConstraint("group_key", "receiver", "sent_at", name="uq_alert_notification_group_key"),
    Index("ix_alert_notification_sent_at", "sent_at"),
)

# The daily log review: how far each file was read, the signatures seen, counts per day.
log_cursor = Table(
    "log_cursor",
    metadata,
    Column("path", String(1000), primary_key=True),
    Column("inode", BigInteger, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

log_signature = Table(
    "log_signature",
    metadata,
    Column("service", String(100), primary_key=True),
    Column("signature_id", String(40), primary_key=True),
    Column("template", Text, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
)

log_daily = Table(
    "log_daily",
    metadata,
    Column("service", String(100), primary_key=True),
    Column("signature_id", String(40), primary_key=True),
    Column("day", String(10), primary_key=True, comment="YYYY-MM-DD (UTC)"),
    Column("count", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
)
