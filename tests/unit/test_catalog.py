from datetime import timedelta
from pathlib import Path

import pytest

from postdeploy.catalog import CatalogError, load_catalog, parse_duration

EXAMPLE = Path(__file__).parents[2] / "data" / "postdeploy.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "postdeploy.yaml"
    path.write_text(text)
    return path


def test_the_example_catalog_loads_and_resolves_relative_check_urls() -> None:
    catalog = load_catalog(EXAMPLE)
    specs = {s.check: s for s in catalog.probe_specs()}
    assert specs["health"].url == "http://127.0.0.1:8801/healthz"
    assert specs["orders-api"].failure_threshold == 3
    assert catalog.sla["critical"].response == timedelta(hours=1)
    assert catalog.sla["low"].resolution == timedelta(weeks=1)
    assert catalog.escalation.severity_levels["critical"] == "L4"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("5m", 300),
        ("4h", 14400),
        ("7d", 604800),
        ("1w", 604800),
        ("250ms", 0.25),
        (3, 3),
    ],
)
def test_durations_read_as_an_operator_writes_them(text: object, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


def test_a_bad_field_names_the_file_the_field_path_and_the_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
services:
  - name: api
    url: http://x
    checks:
      - name: health
        url: /healthz
        timeout: soon
""",
    )
    with pytest.raises(CatalogError) as err:
        load_catalog(path)
    message = str(err.value)
    assert str(path) in message
    assert "services[0].checks[0].timeout" in message
    assert "not a duration" in message


def test_an_unknown_key_is_refused_rather_than_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "services:\n  - name: api\n    chekcs: []\n")
    with pytest.raises(CatalogError, match=r"services\[0\]\.chekcs: Extra inputs"):
        load_catalog(path)


def test_a_missing_file_and_broken_yaml_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="file not found"):
        load_catalog(tmp_path / "nope.yaml")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(write(tmp_path, "services: [\n  - name: a\n"))
    with pytest.raises(CatalogError, match="expected a mapping"):
        load_catalog(write(tmp_path, "- just a list\n"))


def test_references_to_unknown_routes_and_services_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
services:
  - name: api
    depends_on: [db]
    routes: [pager]
""",
    )
    with pytest.raises(CatalogError) as err:
        load_catalog(path)
    assert "unknown" in str(err.value)


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "services:\n  - name: api\n  - name: api\n")
    with pytest.raises(CatalogError, match="duplicate service names: api"):
        load_catalog(path)
    path = write(
        tmp_path,
        "services:\n  - name: api\n    url: http://x\n    checks:\n"
        "      - {name: a, url: /}\n      - {name: a, url: /b}\n",
    )
    with pytest.raises(CatalogError, match="duplicate check names: a"):
        load_catalog(path)


def test_a_relative_check_url_needs_a_service_url(tmp_path: Path) -> None:
    path = write(tmp_path, "services:\n  - name: api\n    checks:\n      - {name: a, url: /x}\n")
    with pytest.raises(CatalogError, match="relative url"):
        load_catalog(path)


def test_a_webhook_route_needs_a_url_or_a_block(tmp_path: Path) -> None:
    path = write(tmp_path, "services: []\nroutes:\n  - name: ops\n    kind: webhook\n")
    with pytest.raises(CatalogError, match="needs a url or a block"):
        load_catalog(path)
