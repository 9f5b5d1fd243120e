"""KPI definitions, each written once: pure functions over plain values returning a KpiValue
(None = no data). The meaning of every KPI is in docs/kpis.md."""

from postdeploy.domain.kpi.dora import (
    change_fail_rate,
    deployment_frequency,
    failed_deployment_recovery_time,
    lead_time,
)
from postdeploy.domain.kpi.satisfaction import ces, csat, nps
from postdeploy.domain.kpi.service import (
    Backlog,
    availability,
    backlog,
    error_budget_remaining,
    first_response_time,
    incidents_by_severity,
    issues_resolved,
    mtta,
    mttr,
    resolution_time,
    sla_compliance,
)
from postdeploy.domain.kpi.value import (
    BETTER,
    KpiValue,
    Spread,
    Trend,
    no_data,
    share,
    spread,
    trend,
)
from postdeploy.domain.uptime import percentile

__all__ = [
    "BETTER",
    "Backlog",
    "KpiValue",
    "Spread",
    "Trend",
    "availability",
    "backlog",
    "ces",
    "change_fail_rate",
    "csat",
    "deployment_frequency",
    "error_budget_remaining",
    "failed_deployment_recovery_time",
    "first_response_time",
    "incidents_by_severity",
    "issues_resolved",
    "lead_time",
    "mtta",
    "mttr",
    "no_data",
    "nps",
    "percentile",
    "resolution_time",
    "sla_compliance",
    "share",
    "spread",
    "trend",
]
