"""The catalog (postdeploy.yaml): services, checks, SLOs, escalation, SLAs, routes, windows."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from postdeploy.domain.alerting import Inhibition, RouteNode, Rule, Timing, Window
from postdeploy.domain.alerting.labels import parse_matcher, parse_matchers
from postdeploy.domain.capacity import parse_quantity
from postdeploy.domain.checks import ProbeSpec
from postdeploy.domain.metrics import STANDARD, ScrapeNames
from postdeploy.domain.windows import window_active

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_NAME = r"^[a-z0-9][a-z0-9_.-]*$"


def parse_duration(value: Any) -> timedelta:
    """'90s', '5m', '4h', '7d', '1w', '250ms' or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration such as 90s, 5m, 4h, 7d or 1w")
    return timedelta(seconds=float(match[1]) * _UNITS[match[2]])


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Check(Strict):
    name: str = Field(pattern=_NAME)
    url: str = Field(description="Absolute URL, or a path joined to the service's url.")
    method: Literal["GET", "HEAD", "POST"] = "GET"
    expect_status: list[int] = Field(default_factory=lambda: [200])
    expect_keyword: str | None = None
    timeout: Duration = timedelta(seconds=5)
    failure_threshold: int = Field(default=1, ge=1, description="Failures in a row before down.")
    cert_warning: Duration = timedelta(days=14)
    ca_file: Path | None = Field(default=None, description="Extra CA bundle for https checks.")
    headers: dict[str, str] = Field(default_factory=dict)
    smoke: bool = False

    @field_validator("expect_status", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, int) else value


class Slo(Strict):
    availability: float = Field(default=99.9, gt=0, le=100)
    latency_ms: float | None = Field(default=None, gt=0)
    latency_percentile: float = Field(default=95, gt=0, lt=100)
    window: Duration = timedelta(days=30)


class Metrics(Strict):
    """How a service's performance metrics are read: its own /metrics, or PromQL."""

    scrape: str | None = Field(default=None, description="Path or URL of its /metrics.")
    job: str | None = Field(default=None, description="Prometheus job label; default the name.")
    requests_total: str = "http_requests_total"
    status_label: str = "code"
    duration_histogram: str = "http_request_duration_seconds"
    cpu_seconds: str = "process_cpu_seconds_total"
    resident_memory: str = "process_resident_memory_bytes"
    filesystem_size: str = Field(
        default="node_filesystem_size_bytes", description="Gauge: disk size (disk_used_ratio)."
    )
    filesystem_free: str = Field(
        default="node_filesystem_avail_bytes", description="Gauge: disk space still available."
    )
    window: Duration = timedelta(minutes=5)
    queries: dict[str, str] = Field(
        default_factory=dict, description="PromQL overriding a standard series, by its name."
    )

    @field_validator("queries")
    @classmethod
    def _known_series(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(STANDARD))
        if unknown:
            raise ValueError(f"unknown series {unknown}; known: {', '.join(STANDARD)}")
        return value

    def names(self) -> ScrapeNames:
        return ScrapeNames(
            self.requests_total,
            self.status_label,
            self.duration_histogram,
            self.cpu_seconds,
            self.resident_memory,
            self.filesystem_size,
            self.filesystem_free,
        )


class LogSource(Strict):
    """Application log files of a service and how to read their lines."""

    path: str = Field(description="A file or a glob, e.g. /var/log/shop/*.log.")
    pattern: str | None = Field(default=None, description="Regex with a named group `message`.")
    format: str | None = Field(default=None, description="Logparser layout: '<Level>: <Content>'.")
    json_lines: bool = False
    json_fields: str | None = Field(default=None, description="e.g. message=msg,level=lvl")

    @model_validator(mode="after")
    def _one_way(self) -> LogSource:
        ways = [self.pattern is not None, self.format is not None, self.json_lines]
        if sum(ways) > 1:
            raise ValueError("give at most one of pattern, format and json_lines")
        if self.pattern is not None:
            try:
                compiled = re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regex: {exc}") from None
            if "message" not in compiled.groupindex:
                raise ValueError("pattern needs a named group (?P<message>...)")
        return self


Quantity = Annotated[float, BeforeValidator(parse_quantity)]


class Capacity(Strict):
    """Thresholds the capacity-planning forecasts are compared with (docs/capacity.md)."""

    cpu_cores: Quantity | None = Field(default=None, gt=0, description="CPU cores in use.")
    memory_bytes: Quantity | None = Field(default=None, gt=0, description="e.g. 2GiB, 512MiB.")
    disk_used_ratio: Quantity | None = Field(default=None, gt=0, le=1, description="e.g. 85%.")
    throughput_rps: Quantity | None = Field(default=None, gt=0, description="Requests/second.")

    def thresholds(self) -> dict[str, float | None]:
        return self.model_dump()


class Prometheus(Strict):
    url: str | None = Field(default=None, description="Prometheus base URL, if no secrets.")
    block: str | None = Field(default=None, description="A postdeploy Prometheus block name.")


class ServiceAction(Strict):
    """An emergency fix the incident response runs for a service once an operator approves."""

    name: str = Field(pattern=_NAME)
    kind: Literal["http", "shell"]
    url: str | None = Field(default=None, description="http: absolute, or a path of the service.")
    method: Literal["GET", "POST", "PUT", "DELETE"] = "POST"
    command: list[str] | None = Field(
        default=None, description="shell: the argv, run without a shell (no quoting surprises)."
    )
    retries: int = Field(default=0, ge=0, le=10, description="Retries after a failed attempt.")
    retry_delay: Duration = timedelta(seconds=10)
    timeout: Duration = timedelta(seconds=60)

    @model_validator(mode="after")
    def _has_target(self) -> ServiceAction:
        if self.kind == "http" and not self.url:
            raise ValueError(f"http action {self.name!r} needs a url")
        if self.kind == "shell" and not self.command:
            raise ValueError(f"shell action {self.name!r} needs a command")
        return self


class Dependencies(Strict):
    """A service's pinned dependencies, for the security scan and the update review."""

    file: Path = Field(
        description="requirements.txt, poetry.lock, package-lock.json or a pinned list."
    )
    ecosystem: Literal["PyPI", "npm"] = "PyPI"


class Security(Strict):
    """Where the security scan and the update review read advisories and latest versions."""

    advisories: str | None = Field(
        default=None, description="OSV feed: a directory of OSV JSON files, or a URL (JSON, zip)."
    )
    advisories_block: str | None = Field(
        default=None, description="Or: a Prefect Secret block holding that URL."
    )
    package_index: str = Field(
        default="https://pypi.org/pypi/{name}/json", description="PyPI JSON API URL template."
    )
    npm_index: str = Field(
        default="https://registry.npmjs.org/{name}", description="npm registry URL template."
    )
    eol: dict[str, date] = Field(
        default_factory=dict, description="End-of-life dates by `package` or `package@major`."
    )
    docs_grace: Duration = Field(
        default=timedelta(days=0), description="Docs older than the last deploy by more: stale."
    )
    timeout: Duration = timedelta(seconds=10)

    @field_validator("package_index", "npm_index")
    @classmethod
    def _templated(cls, value: str) -> str:
        if "{name}" not in value:
            raise ValueError("the URL template needs a {name} placeholder")
        return value


class Service(Strict):
    name: str = Field(pattern=_NAME)
    description: str = ""
    owner: str = ""
    tier: int = Field(default=2, ge=1, le=4)
    url: str | None = None
    standby_url: str | None = None
    version_url: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    slo: Slo = Field(default_factory=Slo)
    routes: list[str] = Field(default_factory=list, description="Routes for this service's alerts.")
    metrics: Metrics | None = None
    logs: list[LogSource] = Field(default_factory=list, description="Logs the daily review reads.")
    dependencies: Dependencies | None = None
    docs: Path | None = Field(default=None, description="The service's documentation folder.")
    actions: list[ServiceAction] = Field(
        default_factory=list, description="Emergency fixes, run by incident-response on approval."
    )
    capacity: Capacity = Field(default_factory=Capacity, description="Capacity thresholds.")

    @model_validator(mode="after")
    def _checks_resolve(self) -> Service:
        names = [c.name for c in self.checks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate check names: {', '.join(dupes)}")
        scrape = self.metrics.scrape if self.metrics else None
        if scrape and not urlsplit(scrape).scheme and not self.url:
            raise ValueError("metrics.scrape is a relative url but the service has none")
        for check in self.checks:
            if not urlsplit(check.url).scheme and not self.url:
                raise ValueError(
                    f"check {check.name!r} has a relative url but the service has none"
                )
        for action in self.actions:
            if action.url and not urlsplit(action.url).scheme and not self.url:
                raise ValueError(
                    f"action {action.name!r} has a relative url but the service has none"
                )
        return self

    def check_url(self, check: Check) -> str:
        return self.resolve(check.url)

    def resolve(self, url: str) -> str:
        """An absolute URL as it is; a path joined to the service's url."""
        if urlsplit(url).scheme:
            return url
        return urljoin((self.url or "").rstrip("/") + "/", url.lstrip("/"))


class SlaTarget(Strict):
    response: Duration
    resolution: Duration


def _default_sla() -> dict[Priority, SlaTarget]:
    # Support guide, "Response Time SLAs".
    hours: dict[Priority, tuple[int, int]] = {
        "critical": (1, 4),
        "high": (4, 24),
        "medium": (24, 72),
        "low": (72, 168),
    }
    return {
        p: SlaTarget(response=timedelta(hours=r), resolution=timedelta(hours=s))
        for p, (r, s) in hours.items()
    }


Level = Literal["L1", "L2", "L3", "L4"]
Priority = Literal["critical", "high", "medium", "low"]


class EscalationLevel(Strict):
    level: Level
    name: str
    routes: list[str] = Field(default_factory=list)


def _default_levels() -> list[EscalationLevel]:
    # Support guide, "Issue Escalation Process".
    names = ["User support", "Technical support", "Development team", "Emergency response"]
    return [EscalationLevel(level=f"L{i}", name=n) for i, n in enumerate(names, 1)]  # type: ignore[arg-type]


def _default_severity_levels() -> dict[str, Level]:
    return {"critical": "L4", "high": "L3", "medium": "L2", "low": "L1"}


class Escalation(Strict):
    levels: list[EscalationLevel] = Field(default_factory=_default_levels)
    severity_levels: dict[str, Level] = Field(default_factory=_default_severity_levels)


class Route(Strict):
    name: str = Field(pattern=_NAME)
    kind: Literal["webhook", "slack", "log", "email"] = "webhook"
    url: str | None = Field(default=None, description="Endpoint, for routes without secrets.")
    block: str | None = Field(default=None, description="Name of a postdeploy Notifier block.")
    smtp_host: str | None = Field(default=None, description="Email: the SMTP server.")
    smtp_port: int | None = Field(default=None, ge=1, le=65535, description="Default by security.")
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    email_from: str | None = None
    email_to: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_target(self) -> Route:
        if self.kind == "email":
            if not (self.smtp_host and self.email_from and self.email_to):
                raise ValueError(f"email route {self.name!r} needs smtp_host, email_from, email_to")
        elif self.kind != "log" and not (self.url or self.block):
            raise ValueError(f"route {self.name!r} needs a url or a block")
        return self


class MaintenanceWindow(Strict):
    name: str
    services: list[str] = Field(default_factory=list, description="Empty means every service.")
    start: str
    end: str


# Alerting (docs/alerts.md): rules, the routing tree and inhibition, turned into
# postdeploy.domain.alerting values by their spec()/tree() methods.


def _template(value: str) -> str:
    from jinja2 import TemplateSyntaxError
    from jinja2.sandbox import SandboxedEnvironment

    try:
        SandboxedEnvironment().parse(value)
    except TemplateSyntaxError as exc:
        raise ValueError(f"bad template, line {exc.lineno}: {exc.message}") from None
    return value


def _matcher(value: str) -> str:
    parse_matcher(value)
    return value


Template = Annotated[str, AfterValidator(_template)]
MatcherText = Annotated[str, AfterValidator(_matcher)]


class _AlertModel(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Rule(_AlertModel):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="The alertname.")
    severity: str = "medium"
    for_: Duration = Field(default=timedelta(0), alias="for", description="Hold before firing.")
    services: list[str] = Field(default_factory=list, description="Empty means every service.")
    labels: dict[str, str] = Field(default_factory=dict)
    summary: Template = Field(default="", description="Jinja; empty: a default per kind.")
    annotations: dict[str, Template] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _not_reserved(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = sorted({"alertname", "severity"} & set(value))
        if reserved:
            raise ValueError(f"{reserved} are set by the rule's name and severity fields")
        return value

    def spec(self, services: list[str]) -> Rule:
        return Rule(
            name=self.name,
            kind=self.kind,  # type: ignore[attr-defined]
            services=tuple(self.services or services),
            severity=self.severity,
            for_s=self.for_.total_seconds(),
            labels=tuple(sorted(self.labels.items())),
            summary=self.summary,
            annotations=tuple(sorted(self.annotations.items())),
            **self._extra(),
        )

    def _extra(self) -> dict[str, Any]:
        return {}


def _standard_series(value: str) -> str:
    if value not in STANDARD:
        raise ValueError(f"unknown series {value!r}; known: {', '.join(STANDARD)}")
    return value


class ThresholdRule(_Rule):
    kind: Literal["threshold"]
    series: Annotated[str, AfterValidator(_standard_series)]
    op: Literal[">", ">=", "<", "<=", "==", "!="] = ">"
    value: float

    def _extra(self) -> dict[str, Any]:
        return {"series": self.series, "op": self.op, "value": self.value}


class CheckFailingRule(_Rule):
    kind: Literal["check_failing"]
    times: int = Field(default=3, ge=1, description="Failures in a row.")
    checks: list[str] = Field(default_factory=list, description="Empty means every check.")

    def _extra(self) -> dict[str, Any]:
        return {"times": self.times, "checks": tuple(self.checks)}


class CertExpiringRule(_Rule):
    kind: Literal["cert_expiring"]
    within: Duration = timedelta(days=14)
    checks: list[str] = Field(default_factory=list, description="Empty means every check.")

    def _extra(self) -> dict[str, Any]:
        return {"within_s": self.within.total_seconds(), "checks": tuple(self.checks)}


class AnomalyRule(_Rule):
    kind: Literal["anomaly"]
    series: Annotated[str, AfterValidator(_standard_series)]
    lookback: Duration = Field(default=timedelta(hours=6), description="History scored per run.")
    hold: Duration = Field(default=timedelta(minutes=10), description="Firing after a flag.")

    def _extra(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "lookback_s": self.lookback.total_seconds(),
            "hold_s": self.hold.total_seconds(),
        }


class SloBurnRule(_Rule):
    kind: Literal["slo_burn"]
    severities: dict[str, str] = Field(
        default_factory=lambda: {"page": "critical", "ticket": "medium"},
        description="Burn-rate severity (page, ticket) to alert severity.",
    )

    def _extra(self) -> dict[str, Any]:
        return {"severities": tuple(sorted(self.severities.items()))}


AlertRule = Annotated[
    ThresholdRule | CheckFailingRule | CertExpiringRule | AnomalyRule | SloBurnRule,
    Field(discriminator="kind"),
]


class IncidentAction(_AlertModel):
    severity: str | None = Field(default=None, description="Default: the alerts' highest.")


class AlertRoute(_AlertModel):
    """A node of the routing tree; unset fields are inherited from the parent."""

    name: str | None = Field(default=None, pattern=_NAME, description="Names it in group keys.")
    matchers: list[MatcherText] = Field(default_factory=list)
    receivers: list[str] | None = Field(default=None, description="Names of catalog routes.")
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    send_resolved: bool | None = None
    continue_: bool = Field(default=False, alias="continue")
    incident: IncidentAction | None = Field(default=None, description="Open/update an incident.")
    title: Template | None = None
    text: Template | None = None
    routes: list[AlertRoute] = Field(default_factory=list)

    def tree(self, parent: RouteNode | None = None, path: str = "root") -> RouteNode:
        up = parent or RouteNode()

        def pick(mine: Any, theirs: Any) -> Any:
            return theirs if mine is None else mine

        node = RouteNode(
            path=path,
            matchers=parse_matchers(self.matchers),
            receivers=tuple(pick(self.receivers, up.receivers)),
            group_by=tuple(pick(self.group_by, up.group_by)),
            timing=Timing(
                pick(self.group_wait, up.timing.group_wait),
                pick(self.group_interval, up.timing.group_interval),
                pick(self.repeat_interval, up.timing.repeat_interval),
            ),
            send_resolved=pick(self.send_resolved, up.send_resolved),
            continue_=self.continue_,
            incident=self.incident is not None,
            incident_severity=self.incident.severity if self.incident else None,
            title=pick(self.title, up.title),
            text=pick(self.text, up.text),
        )
        children = tuple(r.tree(node, f"{path}/{r.name or i}") for i, r in enumerate(self.routes))
        return replace(node, routes=children)

    def walk(self) -> list[AlertRoute]:
        return [self] + [n for r in self.routes for n in r.walk()]


class InhibitRule(_AlertModel):
    source_matchers: list[MatcherText] = Field(min_length=1)
    target_matchers: list[MatcherText] = Field(min_length=1)
    equal: list[str] = Field(default_factory=list, description="Labels both must share.")

    def spec(self) -> Inhibition:
        return Inhibition(
            parse_matchers(self.source_matchers),
            parse_matchers(self.target_matchers),
            tuple(self.equal),
        )


def _default_inhibit_rules() -> list[InhibitRule]:
    # A service that is down is slow too: its latency alerts would only add noise.
    down = 'alertname=~"CheckDown|ServiceDown"'
    return [
        InhibitRule(source_matchers=[down], target_matchers=[t], equal=["service"])
        for t in ('series=~"latency_.*"', 'alertname=~".*[Ll]atency.*"')
    ]


class DisasterRecovery(Strict):
    """Recovery objectives and where backups of the store go (docs/dr.md)."""

    rto: Duration = Field(default=timedelta(hours=1), description="Longest restore allowed.")
    rpo: Duration = Field(default=timedelta(hours=24), description="Oldest good backup allowed.")
    backup_folder: Path = Field(
        default=Path("var/backups"), description="Default folder when no BackupLocation block."
    )
    keep: int = Field(default=14, ge=1, description="Backups kept; older files are pruned.")


class Catalog(Strict):
    version: Literal[1] = 1
    timezone: str = "UTC"
    services: list[Service]
    routes: list[Route] = Field(default_factory=list)
    notify_on_state_change: list[str] = Field(default_factory=list)
    sla: dict[Priority, SlaTarget] = Field(default_factory=_default_sla)
    escalation: Escalation = Field(default_factory=Escalation)
    maintenance_windows: list[MaintenanceWindow] = Field(default_factory=list)
    prometheus: Prometheus | None = None
    alert_rules: list[AlertRule] = Field(default_factory=list)
    alert_routing: AlertRoute | None = None
    inhibit_rules: list[InhibitRule] = Field(default_factory=_default_inhibit_rules)
    security: Security = Field(default_factory=Security)
    dr: DisasterRecovery = Field(default_factory=DisasterRecovery)

    @model_validator(mode="after")
    def _alerting_resolves(self) -> Catalog:
        services = {s.name for s in self.services}
        severities = set(self.escalation.severity_levels)
        routes = {r.name for r in self.routes}
        for rule in self.alert_rules:
            wanted = {rule.severity}
            if isinstance(rule, SloBurnRule):
                wanted |= set(rule.severities.values())
            if unknown := sorted(set(rule.services) - services):
                raise ValueError(f"alert rule {rule.name!r}: unknown services {unknown}")
            if unknown := sorted(wanted - severities):
                raise ValueError(
                    f"alert rule {rule.name!r}: unknown severities {unknown}; known:"
                    f" {', '.join(severities)} (escalation.severity_levels)"
                )
        for node in self.alert_routing.walk() if self.alert_routing else []:
            missing = set(node.receivers or ()) - routes
            severity = node.incident.severity if node.incident else None
            if missing or (severity and severity not in severities):
                raise ValueError(
                    f"alert_routing: unknown receivers {sorted(missing)} or incident severity"
                    f" {severity!r}; receivers are names of routes"
                )
        if self.alert_routing and self.alert_routing.matchers:
            raise ValueError("alert_routing: the root route matches every alert: no matchers")
        for w in self.maintenance_windows:
            try:
                window_active(w.start, w.end, datetime.now(UTC), self.zone())
            except ValueError as exc:
                raise ValueError(f"maintenance window {w.name!r}: {exc}") from None
        return self

    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (KeyError, ValueError):
            raise ValueError(f"timezone {self.timezone!r} is not an IANA zone name") from None

    def alert_windows(self) -> list[Window]:
        return [Window(w.name, tuple(w.services), w.start, w.end) for w in self.maintenance_windows]

    @model_validator(mode="after")
    def _references_resolve(self) -> Catalog:
        names = [s.name for s in self.services]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate service names: {', '.join(dupes)}")
        route_names = {r.name for r in self.routes}
        wanted = set(self.notify_on_state_change)
        for service in self.services:
            wanted.update(service.routes)
            unknown = set(service.depends_on) - set(names)
            if unknown:
                raise ValueError(f"service {service.name!r} depends on unknown {sorted(unknown)}")
        for level in self.escalation.levels:
            wanted.update(level.routes)
        missing = wanted - route_names
        if missing:
            raise ValueError(f"unknown routes: {', '.join(sorted(missing))}")
        return self

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def route(self, name: str) -> Route:
        return next(r for r in self.routes if r.name == name)

    def capacity_thresholds(
        self, services: list[str] | None = None
    ) -> dict[tuple[str, str], float | None]:
        """(service, resource) -> its capacity threshold, None where the catalog sets none."""
        return {
            (s.name, resource): limit
            for s in self.services
            if services is None or s.name in services
            for resource, limit in s.capacity.thresholds().items()
        }

    def thresholds(self) -> dict[tuple[str, str], int]:
        return {(s.name, c.name): c.failure_threshold for s in self.services for c in s.checks}

    def probe_specs(self, services: list[str] | None = None) -> list[ProbeSpec]:
        return [
            ProbeSpec(
                service=s.name,
                check=c.name,
                url=s.check_url(c),
                method=c.method,
                expect_status=tuple(c.expect_status),
                expect_keyword=c.expect_keyword,
                timeout_s=c.timeout.total_seconds(),
                cert_warning_s=c.cert_warning.total_seconds(),
                ca_file=str(c.ca_file) if c.ca_file else None,
                headers=tuple(sorted(c.headers.items())),
                failure_threshold=c.failure_threshold,
            )
            for s in self.services
            if services is None or s.name in services
            for c in s.checks
        ]


class CatalogError(Exception):
    """The catalog file is missing or invalid; the message names file, field and reason."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # 8x faster on large catalogs


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_catalog(path: Path | str) -> Catalog:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(path, [f"cannot read: {exc}"]) from None
    try:
        raw = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader, in C where available
    except yaml.YAMLError as exc:
        raise CatalogError(path, [f"not valid YAML: {exc}".replace("\n", " ")]) from None
    if not isinstance(raw, dict):
        raise CatalogError(path, ["expected a mapping with a 'services' list at the top level"])
    try:
        return Catalog.model_validate(raw)
    except ValidationError as exc:
        problems = [f"{_field_path(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise CatalogError(path, problems) from None
