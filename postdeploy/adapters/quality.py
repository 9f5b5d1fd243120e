"""The data-quality gate on Great Expectations: every suite of data/expectations/gate.yaml runs
as SQL where the period's rows live (SQLite or PostgreSQL), in an ephemeral GX context that
writes no files and draws no progress bars. GX is imported here, on first use only (~7 s)."""

from __future__ import annotations

import json
import logging
import os
import re
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import DateTime, Float, literal
from sqlalchemy.engine import URL

from postdeploy.domain.quality import (
    Failure,
    GateConfigError,
    GateReport,
    SuiteResult,
    SuiteSpec,
    parse_gate,
)
from postdeploy.store.engine import mask_url, normalize_url

SUITES_DIR = Path(__file__).resolve().parents[2] / "data" / "expectations"
GATE_FILE = "gate.yaml"
EXAMPLES = 5
_PLACEHOLDER = re.compile(r"(?<![:\w]):(start_epoch|end_epoch|start|end)\b")
_DB_ERROR = re.compile(r"\((\w+(?:\.\w+)*Error)\)\s*([^\n]+)")


def load_gate(suites_dir: Path | None = None) -> list[SuiteSpec]:
    """The suites named in gate.yaml; GateConfigError naming the file and every problem."""
    path = (suites_dir or SUITES_DIR) / GATE_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GateConfigError(str(path), ["no such file"]) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise GateConfigError(str(path), [str(exc).replace("\n", " ")]) from None
    return parse_gate(data, str(path))


def run_gate(
    store_url: str,
    start: datetime,
    end: datetime,
    *,
    suites_dir: Path | None = None,
    label: str = "",
) -> GateReport:
    """Validate the rows of [start, end) against every suite of the gate. A suite that cannot
    run (missing file or table, GX error) is a failed suite with its error, never an exception;
    only an unusable gate.yaml (GateConfigError) or naive bounds (ValueError) raise."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("the gate's period bounds must be timezone-aware")
    folder = suites_dir or SUITES_DIR
    specs = load_gate(folder)
    named = {f"{s.name}.json" for s in specs}
    notes = [
        f"{p} is not named in {folder / GATE_FILE}: not run"
        for p in sorted(folder.glob("*.json"))
        if p.name not in named
    ]
    url = normalize_url(store_url)
    params = _parameters(start, end, url.get_dialect()())
    gx = _great_expectations()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GX warns about its own internals, not about the data
        try:
            source = _source(gx, url)
        except Exception as exc:  # GX wraps engine errors in many types
            reason = (
                _reason(exc)
                if isinstance(exc, LookupError)
                else f"store {mask_url(url)}: {_reason(exc)}"
            )
            results = [
                SuiteResult(s.name, s.blocking, False, s.feeds, 0, error=reason) for s in specs
            ]
        else:
            try:
                results = [_run_suite(gx, source, spec, folder, params) for spec in specs]
            finally:
                _close(source)
    return GateReport(start, end, results, label=label, notes=notes)


def _great_expectations() -> Any:
    # No usage statistics, no progress bars, and GX's own error logs stay quiet: every error
    # is reported in the gate's results instead.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    import great_expectations as gx

    logging.getLogger("great_expectations").setLevel(logging.CRITICAL)
    return gx


def _context(gx: Any) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _source(gx: Any, url: URL) -> Any:
    """The store as a GX SQL data source; a SQLite file that is not there is an error, not a
    new empty database."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database).exists():
            raise LookupError(f"store {mask_url(url)}: no such file {url.database}")
    context = _context(gx)
    return context.data_sources.add_sql(
        name="store", connection_string=url.render_as_string(hide_password=False)
    )


def _close(source: Any) -> None:
    """Close GX's connections now, not when the garbage collector finds them: a served flow
    runs the gate again and again, and PostgreSQL counts every idle connection."""
    engine = source.get_execution_engine()
    connection = getattr(engine, "_connection", None)  # kept open on SQLite for temp tables
    if connection is not None:
        connection.close()
    engine.close()
    source.get_engine().dispose()


def _parameters(start: datetime, end: datetime, dialect: Any) -> dict[str, str]:
    """SQL literals of the bounds for this dialect: naive UTC timestamps as the store keeps
    them, and epoch seconds."""

    def sql(value: object, type_: Any) -> str:
        compiled = literal(value, type_).compile(
            dialect=dialect, compile_kwargs={"literal_binds": True}
        )
        return str(compiled)

    bounds = {"start": start, "end": end}
    found = {
        name: sql(moment.astimezone(UTC).replace(tzinfo=None), DateTime())
        for name, moment in bounds.items()
    }
    found |= {f"{n}_epoch": sql(moment.timestamp(), Float()) for n, moment in bounds.items()}
    return found


def _run_suite(
    gx: Any, source: Any, spec: SuiteSpec, folder: Path, params: dict[str, str]
) -> SuiteResult:
    began = time.monotonic()

    def failed(error: str) -> SuiteResult:
        seconds = time.monotonic() - began
        return SuiteResult(
            spec.name, spec.blocking, False, spec.feeds, 0, error=error, seconds=seconds
        )

    path = folder / f"{spec.name}.json"
    try:
        suite = _load_suite(gx, path)
    except ValueError as exc:
        return failed(str(exc))
    query = _PLACEHOLDER.sub(lambda m: params[m.group(1)], spec.query)
    try:
        asset = source.add_query_asset(name=spec.name, query=query)
        batch = asset.add_batch_definition_whole_table("period").get_batch()
        results = _validate(gx, batch, suite, spec)
    except Exception as exc:  # a suite that cannot run is a failed suite, not a crash
        return failed(_reason(exc))
    return _summarise(spec, results, time.monotonic() - began)


def _validate(gx: Any, batch: Any, suite: Any, spec: SuiteSpec) -> list[Any]:
    """Counts first, examples only for what failed. Asking GX for examples of every
    expectation costs a scan of the period per expectation even when nothing is wrong (its
    LIMIT query finds no row to stop at): twice the work on a clean million rows."""
    counted = batch.validate(
        suite, result_format={"result_format": "BASIC", "partial_unexpected_count": 0}
    )
    kept: list[Any] = []
    failing: list[Any] = []
    for result in counted.results:
        broke = not result.success and not _raised(result.exception_info)
        (failing if broke else kept).append(result)
    if not failing:
        return kept
    again = gx.ExpectationSuite(
        name=f"{spec.name}-failed", expectations=[r.expectation_config for r in failing]
    )
    detailed = batch.validate(
        again,
        result_format={
            "result_format": "SUMMARY",
            "partial_unexpected_count": EXAMPLES,
            "unexpected_index_column_names": list(spec.example_columns),
        },
    )
    return kept + list(detailed.results)


def _load_suite(gx: Any, path: Path) -> Any:
    from great_expectations.core.expectation_suite import expectationSuiteSchema

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no suite file {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    try:
        return gx.ExpectationSuite(**expectationSuiteSchema.load(data))
    except Exception as exc:  # marshmallow and GX raise their own types for a bad suite
        raise ValueError(f"{path}: not a Great Expectations suite: {_reason(exc)}") from None


def _summarise(spec: SuiteSpec, results: list[Any], seconds: float) -> SuiteResult:
    rows = 0
    failures: list[Failure] = []
    errors: list[str] = []
    for result in results:
        config = result.expectation_config
        column, detail = _arguments(config.kwargs)
        info = result.result or {}
        rows = max(rows, int(info.get("element_count") or 0))
        if config.type == "expect_table_row_count_to_be_between":
            rows = max(rows, int(info.get("observed_value") or 0))
        if error := _raised(result.exception_info):
            errors.append(f"{config.type}({column or ''}): {error}")
        elif not result.success:
            severity = getattr(config.severity, "value", config.severity) or "critical"
            examples = _examples(info, spec.example_columns)
            unexpected = int(info.get("unexpected_count") or 0)
            failures.append(
                Failure(
                    config.type,
                    column,
                    unexpected,
                    examples,
                    str(severity),
                    detail,
                    config.description or "",
                )
            )
    error = "; ".join(errors) if errors else None
    success = error is None and not failures
    return SuiteResult(
        spec.name, spec.blocking, success, spec.feeds, rows, failures, error, seconds
    )


_COLUMN_KEYS = ("column", "column_A", "column_B", "column_list")
_QUIET_KEYS = {"batch_id", "result_format", "catch_exceptions", "meta", "include_config"}


def _arguments(kwargs: dict[str, Any]) -> tuple[str | None, str]:
    named: list[str] = []
    for key in _COLUMN_KEYS:
        value = kwargs.get(key)
        if value is not None:
            named.extend(value if isinstance(value, list) else [str(value)])
    detail = ", ".join(
        f"{k}={_short(v)}"
        for k, v in kwargs.items()
        if k not in _QUIET_KEYS and k not in _COLUMN_KEYS and v is not None
    )
    return (", ".join(named) or None), detail


def _examples(info: dict[str, Any], keys: tuple[str, ...]) -> list[str]:
    indexed = info.get("partial_unexpected_index_list")
    if isinstance(indexed, list) and indexed and isinstance(indexed[0], dict):
        found = []
        for row in indexed[:EXAMPLES]:
            named = " ".join(f"{k}={row[k]}" for k in keys if k in row)
            shown = ", ".join(f"{k}={_short(v)}" for k, v in row.items() if k not in keys)
            found.append(f"{named}: {shown}" if named else shown)
        return found
    values = info.get("partial_unexpected_list")
    if isinstance(values, list) and values:
        return [_short(v) for v in values[:EXAMPLES]]
    if "observed_value" in info:
        return [f"observed {_short(info['observed_value'])}"]
    return []


def _raised(info: Any) -> str | None:
    """The message of an exception GX caught while computing an expectation, if any."""
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        if info.get("raised_exception"):
            return _reason(str(info.get("exception_message") or "unknown error"))
        return None
    return next((m for m in map(_raised, info.values()) if m), None)


def _reason(exc: BaseException | str) -> str:
    """One line: the database's own message when there is one (no such table, ...)."""
    text = str(exc)
    match = _DB_ERROR.search(text)
    line = f"{match.group(1)}: {match.group(2)}" if match else text.strip().split("\n")[0]
    line = line.strip().rstrip('".')
    return line if len(line) <= 300 else line[:297] + "..."


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
