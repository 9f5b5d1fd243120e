"""Security scan rules: HTTP security headers, TLS judgement and OSV advisory matching."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Compare = Callable[[str, str], int]  # <0, 0, >0 like cmp; raises ValueError on a bad version
SEVERITIES = ("critical", "high", "medium", "low")
DAY = 86400.0


@dataclass(frozen=True)
class Finding:
    service: str
    kind: str  # tls | header | vulnerability
    subject: str  # the check, or the package
    rule: str  # the header, the TLS rule or the advisory id
    severity: str
    summary: str

    @property
    def fingerprint(self) -> str:
        key = "|".join(("security", self.service, self.kind, self.subject, self.rule))
        return hashlib.sha256(key.encode()).hexdigest()[:32]


def rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


# --- HTTP security headers --------------------------------------------------------------------


@dataclass(frozen=True)
class HeaderRule:
    header: str
    severity: str
    https_only: bool
    problem: Callable[[str | None], str | None]  # the header's value -> what is wrong, or None


def _missing(advice: str) -> Callable[[str | None], str | None]:
    return lambda value: f"missing: {advice}" if value is None else None


def _hsts(value: str | None) -> str | None:
    if value is None:
        return "missing: browsers may be downgraded to plain HTTP"
    match = re.search(r"max-age\s*=\s*\"?(\d+)", value, re.I)
    if not match or int(match[1]) < 180 * DAY:
        return f"max-age under 180 days ({value!r})"
    return None


def _nosniff(value: str | None) -> str | None:
    if value is None or value.strip().lower() != "nosniff":
        return "missing or not `nosniff`: browsers may sniff content types"
    return None


def _leaks_version(value: str | None) -> str | None:
    if value is not None and re.search(r"\d", value):
        return f"reveals software and version ({value!r})"
    return None


HEADER_RULES: tuple[HeaderRule, ...] = (
    HeaderRule("strict-transport-security", "high", True, _hsts),
    HeaderRule(
        "content-security-policy", "medium", False,
        _missing("no Content-Security-Policy to limit script sources"),
    ),
    HeaderRule("x-content-type-options", "low", False, _nosniff),
    HeaderRule("referrer-policy", "low", False, _missing("URLs may leak in Referer headers")),
    HeaderRule("server", "low", False, _leaks_version),
    HeaderRule("x-powered-by", "low", False, _leaks_version),
)  # fmt: skip


def judge_headers(
    service: str, check: str, headers: Mapping[str, str], *, https: bool
) -> list[Finding]:
    lower = {k.lower(): v for k, v in headers.items()}
    out = []
    for rule in HEADER_RULES:
        if rule.https_only and not https:
            continue
        problem = rule.problem(lower.get(rule.header))
        if problem:
            out.append(Finding(service, "header", check, rule.header, rule.severity,
                               f"{check}: {rule.header} {problem}"))  # fmt: skip
    frame_ok = "x-frame-options" in lower or "frame-ancestors" in lower.get(
        "content-security-policy", ""
    )
    if not frame_ok:
        text = f"{check}: no X-Frame-Options nor CSP frame-ancestors (clickjacking)"
        out.append(Finding(service, "header", check, "x-frame-options", "low", text))
    return out


# --- TLS --------------------------------------------------------------------------------------

LEGACY = {"SSLv2": "critical", "SSLv3": "critical", "TLSv1": "high", "TLSv1.1": "high"}


def judge_tls(
    service: str,
    check: str,
    *,
    protocol: str | None,
    expires_at: float | None,
    now: float,
    legacy_accepted: Sequence[str] = (),
    error: str | None = None,
) -> list[Finding]:
    def finding(rule: str, severity: str, text: str) -> Finding:
        return Finding(service, "tls", check, rule, severity, f"{check}: {text}")

    out = []
    if error:
        out.append(finding("handshake", "high", f"TLS handshake or verification failed: {error}"))
    if protocol in LEGACY:
        out.append(finding("protocol", LEGACY[protocol], f"negotiated {protocol}"))
    for version in legacy_accepted:
        out.append(finding(f"accepts-{version}", "medium", f"server still accepts {version}"))
    if expires_at is not None:
        days = (expires_at - now) / DAY
        if days < 0:
            out.append(finding("expiry", "critical", f"certificate expired {-days:.0f} days ago"))
        elif days < 7:
            out.append(finding("expiry", "high", f"certificate expires in {days:.1f} days"))
        elif days < 30:
            out.append(finding("expiry", "medium", f"certificate expires in {days:.0f} days"))
    return out


# --- OSV advisories ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    type: str  # ECOSYSTEM | SEMVER
    events: tuple[tuple[str, str], ...]  # ("introduced" | "fixed" | "last_affected", version)


@dataclass(frozen=True)
class Affected:
    ecosystem: str
    name: str
    ranges: tuple[Range, ...]
    versions: tuple[str, ...]


@dataclass(frozen=True)
class Advisory:
    id: str
    summary: str
    severity: str
    aliases: tuple[str, ...]
    affected: tuple[Affected, ...]
    withdrawn: bool = False

    def fixed_in(self, ecosystem: str, name: str) -> list[str]:
        return [
            v
            for a in self.affected
            if a.ecosystem == ecosystem and normalize(ecosystem, a.name) == name
            for r in a.ranges
            for kind, v in r.events
            if kind == "fixed"
        ]


def normalize(ecosystem: str, name: str) -> str:
    """PyPI names compare as PEP 503 normalizes them; npm names are exact."""
    return re.sub(r"[-_.]+", "-", name).lower() if ecosystem == "PyPI" else name


_CVSS3 = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "CIA": {"H": 0.56, "L": 0.22, "N": 0.0},
}


def cvss3_score(vector: str) -> float:
    """The CVSS 3.x base score of a vector such as CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H."""
    m = dict(part.split(":", 1) for part in vector.split("/")[1:] if ":" in part)
    changed = m["S"] == "C"
    pr = {"N": 0.85, "L": 0.68 if changed else 0.62, "H": 0.5 if changed else 0.27}[m["PR"]]
    c, i, a = (_CVSS3["CIA"][m[k]] for k in ("C", "I", "A"))
    iss = 1 - (1 - c) * (1 - i) * (1 - a)
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    exploit = 8.22 * _CVSS3["AV"][m["AV"]] * _CVSS3["AC"][m["AC"]] * pr * _CVSS3["UI"][m["UI"]]
    if impact <= 0:
        return 0.0
    total = min((1.08 if changed else 1.0) * (impact + exploit), 10.0)
    return math.ceil(round(total * 100000) / 10000) / 10  # CVSS 3.1 Roundup


def score_severity(score: float) -> str:
    return "critical" if score >= 9 else "high" if score >= 7 else "medium" if score >= 4 else "low"


def _severity(vuln: Mapping[str, Any]) -> str:
    named = str((vuln.get("database_specific") or {}).get("severity", "")).lower()
    named = {"moderate": "medium"}.get(named, named)
    if named in SEVERITIES:
        return named
    for entry in vuln.get("severity") or ():
        if str(entry.get("type", "")).startswith("CVSS_V3"):
            try:
                return score_severity(cvss3_score(str(entry["score"])))
            except (KeyError, ValueError):
                continue
    return "medium"  # unknown: neither ignorable nor an alarm


def parse_advisory(vuln: Mapping[str, Any]) -> Advisory:
    """An OSV record (https://ossf.github.io/osv-schema/); raises KeyError without an id."""
    affected = tuple(
        Affected(
            ecosystem=str(a.get("package", {}).get("ecosystem", "")).split(":")[0],
            name=str(a.get("package", {}).get("name", "")),
            ranges=tuple(
                Range(
                    str(r.get("type", "")),
                    tuple((k, str(v)) for e in r.get("events", ()) for k, v in e.items()),
                )
                for r in a.get("ranges") or ()
            ),
            versions=tuple(str(v) for v in a.get("versions") or ()),
        )
        for a in vuln.get("affected") or ()
    )
    summary = str(vuln.get("summary") or str(vuln.get("details") or "")[:200])
    aliases = tuple(str(x) for x in vuln.get("aliases") or ())
    withdrawn = bool(vuln.get("withdrawn"))
    return Advisory(str(vuln["id"]), summary, _severity(vuln), aliases, affected, withdrawn)


def semver_compare(a: str, b: str) -> int:
    """SemVer 2.0 precedence; tolerates a leading `v` and a missing minor or patch."""

    def key(v: str) -> tuple[tuple[int, ...], tuple[tuple[int, int, str], ...] | None]:
        m = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+.*)?",
                         v.strip())  # fmt: skip
        if not m:
            raise ValueError(f"not a semantic version: {v!r}")
        core = tuple(int(x or 0) for x in m.groups()[:3])
        pre = tuple(
            (0, int(p), "") if p.isdigit() else (1, 0, p) for p in m[4].split(".")
        ) if m[4] else None  # fmt: skip
        return core, pre

    (ca, pa), (cb, pb) = key(a), key(b)
    if ca != cb:
        return -1 if ca < cb else 1
    if pa == pb:
        return 0
    if pa is None or pb is None:  # a pre-release precedes its release
        return 1 if pa is None else -1
    return -1 if pa < pb else 1


def in_range(version: str, events: Sequence[tuple[str, str]], compare: Compare) -> bool:
    """OSV's evaluation: walk the events in version order, toggling affected."""

    def cmp(a: str, b: str) -> int:
        if a == "0" or b == "0":  # "introduced: 0" is before every version
            return (a != "0") - (b != "0")
        return compare(a, b)

    order = {"introduced": 0, "fixed": 1, "last_affected": 2}
    usable = [(k, v) for k, v in events if k in order]
    # insertion sort with the given comparison: ranges have a handful of events
    ordered: list[tuple[str, str]] = []
    for event in usable:
        i = len(ordered)
        while i and cmp(ordered[i - 1][1], event[1]) > 0:
            i -= 1
        ordered.insert(i, event)
    affected = False
    for kind, v in ordered:
        if kind == "introduced" and cmp(version, v) >= 0:
            affected = True
        elif kind == "fixed" and cmp(version, v) >= 0:
            affected = False
        elif kind == "last_affected" and cmp(version, v) > 0:
            affected = False
    return affected


def affects(advisory: Advisory, ecosystem: str, name: str, version: str, compare: Compare) -> bool:
    """Whether a package version is affected; versions a comparison cannot read never match."""
    name = normalize(ecosystem, name)
    for a in advisory.affected:
        if a.ecosystem != ecosystem or normalize(ecosystem, a.name) != name:
            continue
        if version in a.versions:
            return True
        for r in a.ranges:
            if r.type not in ("ECOSYSTEM", "SEMVER"):
                continue  # GIT ranges name commits, not released versions
            try:
                if in_range(version, r.events, semver_compare if r.type == "SEMVER" else compare):
                    return True
            except ValueError:
                continue
    return False


def vulnerabilities(
    service: str,
    ecosystem: str,
    pins: Iterable[tuple[str, str]],
    advisories: Sequence[Advisory],
    compare: Compare,
) -> list[Finding]:
    """One finding per (package, advisory) that affects the pinned version."""
    index: dict[str, list[Advisory]] = {}
    for adv in (a for a in advisories if not a.withdrawn):
        for a in adv.affected:
            if a.ecosystem == ecosystem:
                index.setdefault(normalize(ecosystem, a.name), []).append(adv)
    out = []
    for name, version in pins:
        for adv in dict.fromkeys(index.get(normalize(ecosystem, name), ())):
            if affects(adv, ecosystem, name, version, compare):
                fixed = adv.fixed_in(ecosystem, normalize(ecosystem, name))
                hint = f"; fixed in {', '.join(fixed)}" if fixed else "; no fix published"
                ids = " / ".join((adv.id, *adv.aliases[:1]))
                out.append(Finding(service, "vulnerability", name, adv.id, adv.severity,
                                   f"{name} {version}: {ids} {adv.summary}{hint}"))  # fmt: skip
    return out
