"""flows/deployments.py and prefect.yaml describe the same deployments."""

from __future__ import annotations

from pathlib import Path

import yaml

from flows.deployments import CALENDAR, build_deployments

ROOT = Path(__file__).parents[2]


def test_prefect_yaml_lists_exactly_the_served_deployments_with_the_same_schedules() -> None:
    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    in_yaml = {
        d["name"]: (
            d["entrypoint"],
            d["description"],
            [(s.get("interval"), s.get("cron"), s.get("timezone")) for s in d["schedules"]],
            d.get("concurrency_limit"),
        )
        for d in doc["deployments"]
    }
    in_code = {
        s.name: (
            s.entrypoint,
            s.description,
            [(s.interval.total_seconds() if s.interval else None, s.cron, "UTC")]
            if s.interval or s.cron
            else [],
            s.concurrency_limit,
        )
        for s in CALENDAR
    }
    assert in_yaml == in_code


def test_every_entrypoint_names_the_flow_it_serves() -> None:
    for spec in CALENDAR:
        module, name = spec.entrypoint.split(":")
        assert (ROOT / module).exists()
        assert spec.flow.fn.__name__ == name


def test_served_deployments_carry_their_schedules() -> None:
    deployments = {d.name: d for d in build_deployments()}
    assert set(deployments) == {s.name for s in CALENDAR}
    health = deployments["health-check"]
    assert health.schedules and health.schedules[0].schedule.interval.total_seconds() == 60
    assert deployments["alerting"].concurrency_limit == 1


def test_a_service_parameter_only_takes_the_catalogs_services() -> None:
    deployments = {d.name: d for d in build_deployments(["web", "api"])}
    for name in ("incident-response", "post-deploy-check"):
        schema = deployments[name]._parameter_openapi_schema.properties["service"]
        assert schema["enum"] == ["api", "web"]
        assert deployments[name].enforce_parameter_schema
