"""survey-processing (monthly): import the configured survey exports, then NPS, CSAT and CES
with 95% intervals per segment and service, comment themes, and reports/surveys/<period>/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow
from pydantic import BaseModel, Field

from flows.common import catalog as load
from flows.common import store_url, with_store_retries
from postdeploy.domain.periods import parse_period, period_of, previous
from postdeploy.settings import get_settings
from tasks.surveys import import_survey_exports, survey_report


class SurveyExport(BaseModel):
    file: str = Field(description="A CSV, JSON or JSON-lines survey export.")
    mapping: str = Field(description="Its mapping file (YAML), e.g. data/mappings/...")
    source: str | None = Field(default=None, description="Source name [default: the mapping's].")
    quarantine: str | None = Field(
        default=None, description="File for rejected rows [default: FILE.rejected.csv]."
    )


class SurveyImportFailed(Exception):
    """An export could not be imported; the report was still written from the store."""


@flow(name="survey-processing", description="Survey exports in; NPS, CSAT, CES and themes out.")
def survey_processing(
    period: str | None = None,
    exports: list[SurveyExport] | None = None,
    catalog_path: str | None = None,
    store_block: str | None = None,
) -> dict[str, Any]:
    """Import `exports`, then write reports/surveys/<period>/ and the survey-report,
    survey-scores and survey-report-link artifacts. The run fails, naming the file and the
    reason, when an export could not be imported (the report is written all the same).

    Args:
        period: 2026-10, 2026-Q4, 2026-W44 or a day; default the previous month, in the
            catalog's time zone.
        exports: survey exports to import first, each with its mapping.
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG.
        store_block: a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
    """
    cat = load(catalog_path)
    tz = cat.zone()
    label = (
        parse_period(period, tz) if period else previous(period_of("month", datetime.now(UTC), tz))
    ).label
    url = store_url(store_block)
    imported = with_store_retries(import_survey_exports)(
        url, [e.model_dump() for e in exports or []]
    )
    report = with_store_retries(survey_report)(url, label, cat.timezone, get_settings().reports_dir)
    failed = [f"{r['file']}: {r['error']}" for r in imported if r.get("error")]
    if failed:
        raise SurveyImportFailed("; ".join(failed))
    return {"imports": imported, **report}
