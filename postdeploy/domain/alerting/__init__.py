"""Alerting like Prometheus and Alertmanager, evaluated in batches: rules -> alert states ->
silences, maintenance windows, inhibition -> groups -> when to notify. Values in, values out."""

from postdeploy.domain.alerting.dispatch import Alert, Decision, GroupState, Notification, plan
from postdeploy.domain.alerting.labels import Matcher, fingerprint, parse_matcher, parse_matchers
from postdeploy.domain.alerting.routing import INCIDENT, RouteNode, Timing, routes_for
from postdeploy.domain.alerting.rules import BurnFact, CheckFacts, Rule, RuleData, Signal
from postdeploy.domain.alerting.suppress import Inhibition, Silence, Window, suppressed

__all__ = [
    "INCIDENT", "Alert", "BurnFact", "CheckFacts", "Decision", "GroupState", "Inhibition",
    "Matcher", "Notification", "RouteNode", "Rule", "RuleData", "Signal", "Silence", "Timing",
    "Window", "fingerprint", "parse_matcher", "parse_matchers", "plan", "routes_for",
    "suppressed",
]  # fmt: skip
