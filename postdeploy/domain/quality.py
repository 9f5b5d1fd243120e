"""The data-quality gate as values: which suite checks which input set, what each failure was,
and which KPIs a failed blocking suite stops. No Great Expectations here (adapters/quality.py
runs it); docs/data-quality.md explains the gate."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from postdeploy.domain.kpi.value import BETTER

KPI_NAMES = tuple(BETTER)
MODES = ("blocking", "warning")
PARAMETERS = ("start", "end", "start_epoch", "end_epoch")
_SUITE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_SUITE_KEYS = {"mode", "feeds", "query", "example_columns"}


class GateConfigError(ValueError):
    """gate.yaml cannot be used; every problem is named with the file."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"invalid data-quality gate {path}: " + "; ".join(problems))


@dataclass(frozen=True)
class SuiteSpec:
    """One input set: the rows of a period it validates (`query`, with :start, :end,
    :start_epoch and :end_epoch) and what a failure of its suite `<name>.json` means."""

    name: str
    query: str
    blocking: bool
    feeds: tuple[str, ...]
    example_columns: tuple[str, ...] = ("id",)


def parse_gate(data: Any, path: str) -> list[SuiteSpec]:
    """The suites of a gate file already read from YAML; GateConfigError naming every problem."""
    problems: list[str] = []
    suites = data.get("suites") if isinstance(data, Mapping) else None
    if not isinstance(suites, Mapping) or not suites:
        raise GateConfigError(path, ["'suites' must map suite names to their settings"])
    specs = []
    for name, entry in suites.items():
        where = f"suites.{name}"
        if not isinstance(name, str) or not _SUITE_NAME.match(name):
            problems.append(f"{where}: a suite name is lower case letters, digits and _")
            continue
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: must be a mapping (mode, feeds, query, example_columns)")
            continue
        if unknown := sorted(set(entry) - _SUITE_KEYS):
            problems.append(f"{where}: unknown keys {unknown}; known: {sorted(_SUITE_KEYS)}")
        mode = entry.get("mode")
        if mode not in MODES:
            problems.append(f"{where}.mode: {mode!r} is not blocking or warning")
        feeds = entry.get("feeds", [])
        if not isinstance(feeds, list) or not all(isinstance(f, str) for f in feeds):
            problems.append(f"{where}.feeds: must be a list of KPI names")
            feeds = []
        elif unknown := [f for f in feeds if f not in KPI_NAMES]:
            problems.append(f"{where}.feeds: unknown KPIs {unknown}; known: {', '.join(KPI_NAMES)}")
        query = entry.get("query")
        if not isinstance(query, str) or not query.strip():
            problems.append(f"{where}.query: must be an SQL SELECT")
            query = ""
        columns = entry.get("example_columns", ["id"])
        if (
            not isinstance(columns, list)
            or not columns
            or not all(isinstance(c, str) for c in columns)
        ):
            problems.append(f"{where}.example_columns: must be a list of column names")
            columns = []
        specs.append(
            SuiteSpec(name, query.strip(), mode == "blocking", tuple(feeds), tuple(columns))
        )
    if problems:
        raise GateConfigError(path, problems)
    return specs


@dataclass(frozen=True)
class Failure:
    """A failed expectation: how many rows broke it and a few of them, named by their keys."""

    expectation: str  # Great Expectations' name, e.g. expect_column_values_to_be_between
    column: str | None  # "resolved_at, created_at" for a pair; None for table expectations
    unexpected: int  # rows that broke it (0 for table-level expectations such as row counts)
    examples: list[str]
    severity: str = "critical"  # only critical failures of a blocking suite block its KPIs
    detail: str = ""  # the expectation's arguments, e.g. "min_value=0"
    description: str = ""  # the suite's words for it, when it has some

    @property
    def critical(self) -> bool:
        return self.severity == "critical"

    def describe(self, rows: int | None = None) -> str:
        text = f"{self.expectation}({self.column or self.detail})"
        if self.description:
            text += f" [{self.description.rstrip('.')}]"
        if self.unexpected:
            of = f" of {rows:,}" if rows is not None else ""
            text += f": {self.unexpected:,}{of} rows"
        if self.examples:
            text += f", e.g. {self.examples[0]}"
        return text


@dataclass(frozen=True)
class SuiteResult:
    name: str
    blocking: bool
    success: bool
    feeds: tuple[str, ...]
    rows: int  # rows of the period the suite validated
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None  # the suite could not run at all: missing file, table, GE error
    seconds: float = 0.0

    @property
    def mode(self) -> str:
        return "blocking" if self.blocking else "warning"

    @property
    def blocks(self) -> bool:
        failed = self.error is not None or any(f.critical for f in self.failures)
        return self.blocking and failed

    @property
    def status(self) -> str:
        return "error" if self.error else "passed" if self.success else "failed"

    def reason(self) -> str:
        if self.error:
            return f"data-quality suite {self.name} could not run: {self.error}"
        failed = [f for f in self.failures if f.critical or not self.blocking]
        listed = "; ".join(f.describe(self.rows) for f in failed)
        return f"data-quality suite {self.name} failed: {listed}"


@dataclass(frozen=True)
class GateReport:
    start: datetime
    end: datetime
    suites: list[SuiteResult]
    label: str = ""  # the report period, e.g. 2026-10
    notes: list[str] = field(default_factory=list)  # about the gate itself, e.g. unused suites

    @property
    def blocked(self) -> dict[str, str]:
        """KPI name -> why it must not be computed, from failed blocking suites."""
        reasons: dict[str, list[str]] = {}
        for suite in self.suites:
            if suite.blocks:
                for kpi in suite.feeds:
                    reasons.setdefault(kpi, []).append(suite.reason())
        return {kpi: " | ".join(why) for kpi, why in reasons.items()}

    @property
    def warnings(self) -> list[str]:
        found = list(self.notes)
        for suite in self.suites:
            if suite.blocks:
                minor = [f for f in suite.failures if not f.critical]
            elif suite.blocking:
                minor = suite.failures
            elif suite.status != "passed":
                found.append(f"{suite.reason()} (warning suite: nothing blocked)")
                continue
            else:
                minor = []
            found.extend(
                f"data-quality suite {suite.name}: {f.describe(suite.rows)}"
                f" (severity {f.severity}: nothing blocked)"
                for f in minor
            )
        return found

    @property
    def passed(self) -> bool:
        return not any(s.blocks for s in self.suites)

    def rows(self) -> list[dict[str, str]]:
        """One row per failure, per error and per clean suite, for a CSV or HTML table."""
        table = []
        for s in self.suites:
            base = {"suite": s.name, "mode": s.mode, "status": s.status, "rows": str(s.rows)}
            blocks = ", ".join(s.feeds) if s.blocks else ""
            empty = {"expectation": "", "column": "", "severity": "", "unexpected": ""}
            if s.error or not s.failures:
                table.append(
                    base | empty | {"examples": s.error or "", "blocks": blocks if s.error else ""}
                )
            for f in s.failures:
                table.append(
                    base
                    | {
                        "expectation": f.expectation + (f" ({f.detail})" if f.detail else ""),
                        "column": f.column or "",
                        "severity": f.severity,
                        "unexpected": str(f.unexpected),
                        "examples": "; ".join(f.examples),
                        "blocks": blocks if s.blocking and f.critical else "",
                    }
                )
        return table

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "passed": self.passed,
            "blocked": self.blocked,
            "warnings": self.warnings,
            "suites": [
                {
                    "name": s.name,
                    "mode": s.mode,
                    "status": s.status,
                    "success": s.success,
                    "rows": s.rows,
                    "feeds": list(s.feeds),
                    "error": s.error,
                    "seconds": round(s.seconds, 3),
                    "failures": [
                        {
                            "expectation": f.expectation,
                            "column": f.column,
                            "detail": f.detail,
                            "severity": f.severity,
                            "unexpected": f.unexpected,
                            "examples": f.examples,
                        }
                        for f in s.failures
                    ],
                }
                for s in self.suites
            ],
        }

    def to_markdown(self) -> str:
        title = self.label or f"{self.start.isoformat()} to {self.end.isoformat()}"
        verdict = "passed" if self.passed else f"{len(self.blocked)} KPIs blocked"
        lines = [
            f"# Data-quality gate {title}",
            "",
            f"From {self.start.isoformat()} to {self.end.isoformat()} (exclusive): {verdict}.",
            "",
            "| suite | mode | rows | result | feeds |",
            "|---|---|---:|---|---|",
        ]
        for s in self.suites:
            result = {"passed": "passed", "error": "could not run"}.get(
                s.status, f"{len(s.failures)} failed"
            )
            lines.append(
                f"| {s.name} | {s.mode} | {s.rows:,} | {result} | {', '.join(s.feeds) or '–'} |"
            )
        if self.blocked:
            lines += ["", "## Blocked KPIs", ""]
            lines += [
                f"- **{', '.join(s.feeds)}**: {_cell(s.reason())}"
                for s in self.suites
                if s.blocks and s.feeds
            ]
        failures = [(s, f) for s in self.suites for f in s.failures]
        errors = [s for s in self.suites if s.error]
        if failures or errors:
            lines += [
                "",
                "## Failures",
                "",
                "| suite | expectation | column | severity | rows | examples |",
                "|---|---|---|---|---:|---|",
            ]
            lines += [
                f"| {s.name} | could not run | | | | {_cell(s.error or '')} |" for s in errors
            ]
            lines += [
                f"| {s.name} | {_cell(f.expectation)}{_cell(f' ({f.detail})' if f.detail else '')}"
                f" | {_cell(f.column or '')} | {f.severity} | {f.unexpected:,}"
                f" | {_cell('; '.join(f.examples))} |"
                for s, f in failures
            ]
        if self.warnings:
            lines += ["", "## Warnings", ""]
            lines += [f"- {_cell(w)}" for w in self.warnings]
        return "\n".join(lines) + "\n"


def artifact_key(label: str) -> str:
    """A stable Prefect artifact key for a period: data-quality-2026-w48."""
    slug = re.sub(r"[^a-z0-9-]+", "-", label.lower()).strip("-")
    return f"data-quality-{slug or 'period'}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
