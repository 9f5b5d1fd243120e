"""Security rules: headers, TLS judgement, CVSS and OSV range matching (pure)."""

from __future__ import annotations

import pytest

from postdeploy.domain.security import (
    Advisory,
    affects,
    cvss3_score,
    in_range,
    judge_headers,
    judge_tls,
    parse_advisory,
    semver_compare,
    vulnerabilities,
)

DAY = 86400.0
NOW = 1_800_000_000.0
GOOD = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def tuple_compare(a: str, b: str) -> int:
    """A stand-in for PEP 440 in pure tests: dotted integers."""
    ta, tb = (tuple(int(x) for x in v.split(".")) for v in (a, b))
    return (ta > tb) - (ta < tb)


def osv(**affected: object) -> dict[str, object]:
    return {"id": "GHSA-test", "summary": "bad", "affected": [affected]}


def pypi(name: str, *ranges: list[dict[str, str]], versions: tuple[str, ...] = ()) -> Advisory:
    return parse_advisory(
        osv(
            package={"ecosystem": "PyPI", "name": name},
            ranges=[{"type": "ECOSYSTEM", "events": r} for r in ranges],
            versions=list(versions),
        )
    )


def test_a_service_with_every_recommended_header_has_no_header_findings() -> None:
    assert judge_headers("shop", "home", GOOD, https=True) == []


def test_missing_hsts_on_https_is_high_and_ignored_on_plain_http() -> None:
    headers = {k: v for k, v in GOOD.items() if k != "Strict-Transport-Security"}
    (finding,) = judge_headers("shop", "home", headers, https=True)
    assert (finding.rule, finding.severity) == ("strict-transport-security", "high")
    assert judge_headers("shop", "home", headers, https=False) == []


def test_a_short_hsts_max_age_and_a_version_revealing_server_header_are_reported() -> None:
    headers = {**GOOD, "Strict-Transport-Security": "max-age=3600", "Server": "nginx/1.18.0"}
    rules = {f.rule: f.severity for f in judge_headers("shop", "home", headers, https=True)}
    assert rules == {"strict-transport-security": "high", "server": "low"}


def test_a_bare_response_misses_csp_nosniff_referrer_policy_and_framing() -> None:
    rules = {f.rule for f in judge_headers("shop", "home", {}, https=False)}
    assert rules == {
        "content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options"
    }  # fmt: skip


def test_tls_1_0_negotiated_is_high_and_an_expired_certificate_is_critical() -> None:
    found = judge_tls("shop", "home", protocol="TLSv1", expires_at=NOW - 2 * DAY, now=NOW)
    assert {(f.rule, f.severity) for f in found} == {("protocol", "high"), ("expiry", "critical")}


@pytest.mark.parametrize(
    ("days", "severity"), [(3, "high"), (20, "medium"), (90, None)]
)  # fmt: skip
def test_certificate_expiry_severity_grows_as_the_date_nears(
    days: int, severity: str | None
) -> None:
    found = judge_tls("shop", "home", protocol="TLSv1.3", expires_at=NOW + days * DAY, now=NOW)
    assert [f.severity for f in found] == ([severity] if severity else [])


def test_a_finding_keeps_its_fingerprint_across_scans_and_differs_per_subject() -> None:
    a = judge_tls("shop", "home", protocol="TLSv1", expires_at=None, now=NOW)[0]
    b = judge_tls("shop", "home", protocol="TLSv1", expires_at=None, now=NOW + DAY)[0]
    c = judge_tls("shop", "api", protocol="TLSv1", expires_at=None, now=NOW)[0]
    assert a.fingerprint == b.fingerprint != c.fingerprint


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.8),
    ],
)
def test_cvss3_base_scores_match_the_first_calculator(vector: str, score: float) -> None:
    assert cvss3_score(vector) == score


def test_an_advisory_without_named_severity_takes_it_from_its_cvss_vector() -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    advisory = parse_advisory({"id": "X", "severity": [{"type": "CVSS_V3", "score": vector}]})
    moderate = parse_advisory({"id": "Y", "database_specific": {"severity": "MODERATE"}})
    assert (advisory.severity, moderate.severity) == ("critical", "medium")


@pytest.mark.parametrize(
    ("version", "affected"),
    [("0.9", False), ("1.0", True), ("1.4.2", True), ("1.5", False), ("2.0", True),
     ("2.1", True), ("2.1.1", False)],
)  # fmt: skip
def test_osv_ranges_toggle_at_introduced_fixed_and_last_affected(
    version: str, affected: bool
) -> None:
    events = [("introduced", "1.0"), ("fixed", "1.5"), ("introduced", "2.0"),
              ("last_affected", "2.1")]  # fmt: skip
    assert in_range(version, events, tuple_compare) is affected


def test_introduced_zero_affects_every_version_before_the_fix() -> None:
    assert in_range("0.0.1", [("introduced", "0"), ("fixed", "3.1.4")], tuple_compare)
    assert not in_range("3.1.4", [("introduced", "0"), ("fixed", "3.1.4")], tuple_compare)


def test_an_explicit_versions_list_matches_even_without_ranges() -> None:
    advisory = pypi("left-pad", versions=("1.2.3",))
    assert affects(advisory, "PyPI", "left-pad", "1.2.3", tuple_compare)
    assert not affects(advisory, "PyPI", "left-pad", "1.2.4", tuple_compare)


def test_pypi_names_match_as_pep_503_normalizes_them() -> None:
    advisory = pypi("Jinja2", [{"introduced": "0"}, {"fixed": "3.1.4"}])
    assert affects(advisory, "PyPI", "jinja2", "2.11.3", tuple_compare)
    assert not affects(advisory, "npm", "jinja2", "2.11.3", tuple_compare)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("1.0.0", "1.0.0", 0), ("1.0.0-alpha", "1.0.0", -1), ("1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
     ("1.0.0-beta.11", "1.0.0-beta.2", 1), ("v2.1", "2.0.9", 1), ("1.10.0", "1.9.0", 1),
     ("1.0.0+build.5", "1.0.0", 0)],
)  # fmt: skip
def test_semver_precedence_follows_the_specification(a: str, b: str, expected: int) -> None:
    assert semver_compare(a, b) == expected


def test_a_semver_range_uses_semver_precedence_with_pre_releases() -> None:
    advisory = parse_advisory(
        osv(package={"ecosystem": "npm", "name": "lodash"},
            ranges=[{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}])
    )  # fmt: skip

    def never(a: str, b: str) -> int:
        raise AssertionError("a SEMVER range must not use the ecosystem's comparison")

    assert affects(advisory, "npm", "lodash", "4.17.21-rc.1", never)
    assert not affects(advisory, "npm", "lodash", "4.17.21", never)


def test_unreadable_versions_never_match_instead_of_crashing_the_scan() -> None:
    advisory = pypi("pkg", [{"introduced": "0"}, {"fixed": "2.0"}])
    assert not affects(advisory, "PyPI", "pkg", "not-a-version", tuple_compare)


def test_vulnerabilities_name_the_advisory_and_the_fixed_version() -> None:
    advisory = pypi("requests", [{"introduced": "2.0"}, {"fixed": "2.32.0"}])
    pins = [("requests", "2.25.1"), ("flask", "1.1.2")]
    (finding,) = vulnerabilities("shop", "PyPI", pins, [advisory], tuple_compare)
    assert finding.subject == "requests" and finding.rule == "GHSA-test"
    assert "requests 2.25.1" in finding.summary and "fixed in 2.32.0" in finding.summary


def test_a_withdrawn_advisory_matches_nothing() -> None:
    advisory = parse_advisory(
        {**osv(package={"ecosystem": "PyPI", "name": "pkg"}, versions=["1.0"]),
         "withdrawn": "2026-01-01T00:00:00Z"}
    )  # fmt: skip
    assert vulnerabilities("shop", "PyPI", [("pkg", "1.0")], [advisory], tuple_compare) == []
