"""Survey tasks: import the survey exports of a run (all files in one task), and write the
period's report with its Prefect artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from postdeploy.adapters.importers.exports import MissingColumns
from postdeploy.adapters.importers.mapping import MappingError
from postdeploy.adapters.importers.surveys import import_survey_file
from postdeploy.domain.periods import parse_period
from postdeploy.reporting.surveys import load_summary, summary_dict, write_survey_report
from postdeploy.store.session import in_store


@task(name="import-survey-exports", cache_policy=NO_CACHE)
def import_survey_exports(url: str, exports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Import each export ({file, mapping, source?, quarantine?}) in its own transaction; a
    bad export (mapping, columns, unreadable file) is reported with the reason and imports
    nothing, the others still import. An unreachable store raises, for the task's retries
    (re-importing is harmless: nothing changes twice)."""
    logger = get_run_logger()
    results: list[dict[str, Any]] = []
    for e in exports:
        where: dict[str, Any] = {"file": str(e["file"]), "mapping": str(e["mapping"])}
        quarantine = Path(e["quarantine"]) if e.get("quarantine") else None
        try:
            done = import_survey_file(
                url, Path(e["file"]), Path(e["mapping"]), source=e.get("source"),
                quarantine=quarantine,
            )  # fmt: skip
        except (MappingError, MissingColumns, OSError, UnicodeDecodeError, ValueError) as exc:
            logger.error("%s: %s; nothing imported", e["file"], exc)
            results.append(where | {"error": f"{exc}; nothing imported"})
            continue
        logger.info("%s: %s", e["file"], done.line())
        results.append(
            where | {"read": done.read, "inserted": done.inserted, "updated": done.updated,
                     "unchanged": done.unchanged, "rejected": done.rejected,
                     "duplicates": done.duplicates,
                     "quarantine": str(done.quarantine) if done.quarantine else None}
        )  # fmt: skip
    return results


@task(name="survey-report", cache_policy=NO_CACHE)
def survey_report(url: str, period: str, timezone: str, reports_dir: Path) -> dict[str, Any]:
    """Scores, themes and the report of a period (a label read in `timezone`); artifacts
    survey-report (Markdown), survey-scores (table) and survey-report-link."""
    chosen = parse_period(period, ZoneInfo(timezone))
    summary = in_store(url, lambda conn: load_summary(conn, chosen))
    files = write_survey_report(summary, out_dir=Path(reports_dir))
    html = files.html.resolve()
    create_markdown_artifact(
        key="survey-report", markdown=files.markdown_text + f"\nHTML report: `{html}`\n",
        description=f"Survey scores and comment themes, {chosen.label}",
    )  # fmt: skip
    create_table_artifact(
        key="survey-scores", table=files.table,
        description=f"NPS, CSAT and CES with 95% intervals, {chosen.label}",
    )  # fmt: skip
    create_link_artifact(
        key="survey-report-link", link=html.as_uri(), link_text=f"Survey report {chosen.label}",
        description="The HTML survey report (a file on the host that ran the flow)",
    )  # fmt: skip
    return summary_dict(summary) | {"report": str(files.html)}
