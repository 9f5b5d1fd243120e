"""Major-update review rules (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from postdeploy.domain.updates import assess, major, majors_behind

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("version", "expected"), [("2.31.0", 2), ("v18.2.0", 18), ("1!3.0", 3), ("0.9b1", 0)]
)
def test_the_major_is_the_leading_release_number(version: str, expected: int) -> None:
    assert major(version) == expected


def test_majors_behind_counts_major_releases_and_never_goes_negative() -> None:
    assert majors_behind("1.1.2", "3.0.3") == 2
    assert majors_behind("3.1.0", "3.0.0") == 0


def test_two_majors_behind_is_high_and_one_is_medium() -> None:
    assert assess("flask", "1.1.2", "3.0.3", eol={}, today=TODAY).severity == "high"
    one = assess("urllib3", "1.26.5", "2.2.1", eol={}, today=TODAY)
    assert (one.majors_behind, one.verdict, one.severity) == (1, "1 major behind", "medium")


def test_a_patch_behind_is_low_and_the_latest_is_current() -> None:
    assert assess("jinja2", "3.1.3", "3.1.4", eol={}, today=TODAY).severity == "low"
    assert assess("jinja2", "3.1.4", "3.1.4", eol={}, today=TODAY).verdict == "current"


def test_a_past_end_of_life_date_makes_even_a_current_package_high() -> None:
    update = assess("django", "3.2.25", "3.2.25", eol={"django@3": date(2024, 4, 1)}, today=TODAY)
    assert update.severity == "high" and "end of life since 2024-04-01" in update.verdict


def test_end_of_life_within_six_months_is_announced() -> None:
    update = assess("node", "20.1.0", "20.1.0", eol={"node": date(2027, 4, 30)}, today=TODAY)
    assert update.severity == "medium" and update.verdict.startswith("end of life on 2027-04-30")


def test_an_unknown_latest_version_says_why() -> None:
    update = assess("private-lib", "1.0", None, eol={}, today=TODAY, error="not in the index")
    assert (update.severity, update.verdict) == ("unknown", "latest unknown: not in the index")


def test_the_catalog_takes_dependencies_docs_and_security_with_defaults() -> None:
    from postdeploy.catalog import Catalog

    cat = Catalog.model_validate(
        {
            "services": [
                {"name": "shop", "dependencies": {"file": "req.txt"}, "docs": "docs/shop"},
            ],
            "security": {"eol": {"flask@1": "2023-09-30"}},
        }
    )
    deps = cat.services[0].dependencies
    assert deps is not None and deps.ecosystem == "PyPI"
    assert cat.security.package_index == "https://pypi.org/pypi/{name}/json"
    assert cat.security.eol == {"flask@1": date(2023, 9, 30)}


def test_the_catalog_refuses_a_package_index_template_without_a_name_placeholder() -> None:
    from pydantic import ValidationError

    from postdeploy.catalog import Catalog

    with pytest.raises(ValidationError, match=r"\{name\} placeholder"):
        Catalog.model_validate({"services": [], "security": {"package_index": "https://x/"}})
