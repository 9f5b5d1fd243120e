"""survey-processing on a real Prefect server: exports imported, scores and themes reported,
artifacts published under stable keys; a bad export fails the run by name, nothing lost."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from prefect.client.orchestration import get_client

from flows.survey_processing import SurveyExport, survey_processing
from postdeploy.domain.periods import period_of, previous
from postdeploy.settings import get_settings
from postdeploy.store.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
DATA, MAPPINGS = ROOT / "data" / "surveys", ROOT / "data" / "mappings"


def catalog(folder: Path) -> str:
    path = folder / "catalog.yaml"
    path.write_text(yaml.safe_dump({"timezone": "Europe/Berlin", "services": [{"name": "shop"}]}))
    return str(path)


def exports(tmp_path: Path) -> list[SurveyExport]:
    return [
        SurveyExport(file=str(DATA / "typeform-2026-10.csv"),
                     mapping=str(MAPPINGS / "typeform-survey.yaml"),
                     quarantine=str(tmp_path / "typeform.rejected.csv")),
        SurveyExport(file=str(DATA / "delighted-2026-10.json"),
                     mapping=str(MAPPINGS / "delighted-survey.yaml"),
                     quarantine=str(tmp_path / "delighted.rejected.jsonl")),
    ]  # fmt: skip


async def latest_artifacts() -> dict[str, Any]:
    async with get_client() as client:
        return {a.key: a for a in await client.read_latest_artifacts() if a.key}


def test_exports_are_imported_and_the_month_is_reported_with_artifacts(
    settings_env: Path,
) -> None:
    upgrade(get_settings().database_url)

    result = survey_processing(period="2026-10", exports=exports(settings_env),
                               catalog_path=catalog(settings_env))  # fmt: skip

    assert [(r["inserted"], r["rejected"], r["duplicates"]) for r in result["imports"]] == [
        (23, 2, 1), (8, 1, 0),
    ]  # fmt: skip
    # October in Berlin: 31 imported, but one was submitted at 2026-10-31 23:59:59 UTC, which is
    # 1 November in Berlin; Delighted asks NPS only
    assert (result["period"], result["responses"], result["nps"]["n"]) == ("2026-10", 30, 30)
    assert result["csat"]["n"] == 22 and result["previous"]["nps"]["note"] == "no data"
    assert {"slow", "login"} <= set(result["detractor_themes"])
    assert {"friendly", "support"} <= set(result["promoter_themes"])
    folder = settings_env / "reports" / "surveys" / "2026-10"
    assert {p.name for p in folder.iterdir()} == {"index.html", "summary.md", "scores.csv"}
    page = (folder / "index.html").read_text()
    assert "アプリがログイン画面で固まる。\n再インストールしても同じ。" in page  # as written
    assert "http://" not in page and "https://" not in page  # self-contained

    artifacts = asyncio.run(latest_artifacts())
    assert "| NPS |" in artifacts["survey-report"].data
    assert "survey-scores" in artifacts
    link = artifacts["survey-report-link"].data
    assert (folder / "index.html").resolve().as_uri() in link

    again = survey_processing(period="2026-10", exports=exports(settings_env),
                              catalog_path=catalog(settings_env))  # fmt: skip
    assert [r["unchanged"] for r in again["imports"]] == [23, 8]
    assert again["responses"] == 30


def test_an_export_with_wrong_columns_fails_the_run_by_name_after_the_report(
    settings_env: Path,
) -> None:
    upgrade(get_settings().database_url)
    wrong = SurveyExport(file=str(DATA / "qualtrics-2026-10.csv"),
                         mapping=str(MAPPINGS / "typeform-survey.yaml"))  # fmt: skip
    good = exports(settings_env)[1]

    state = survey_processing(period="2026-10", exports=[wrong, good],
                              catalog_path=catalog(settings_env), return_state=True)  # fmt: skip

    assert state.is_failed()
    assert "qualtrics-2026-10.csv" in state.message, state.message
    assert "lacks the mapped column(s): #, Submit Date (UTC)" in state.message
    summary = (settings_env / "reports" / "surveys" / "2026-10" / "summary.md").read_text()
    assert "8 responses" in summary  # the good export still counted


def test_without_a_period_the_previous_month_in_the_catalog_zone_is_reported(
    settings_env: Path,
) -> None:
    upgrade(get_settings().database_url)
    path = catalog(settings_env)
    expected = previous(period_of("month", datetime.now(UTC), ZoneInfo("Europe/Berlin"))).label
    result = survey_processing(catalog_path=path)
    assert result["period"] == expected and result["responses"] == 0
    assert result["nps"]["value"] is None and result["nps"]["note"] == "no data"
    assert (settings_env / "reports" / "surveys" / expected / "index.html").exists()
