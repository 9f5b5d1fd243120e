"""update-review (quarterly): dependencies against their latest releases (majors behind, end of
life) and each service's documentation (staleness, broken links, required documents)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, cast

from prefect import flow, get_run_logger

from flows.common import catalog as load
from flows.common import store_url, with_store_retries
from postdeploy.adapters.package_index import Latest
from postdeploy.domain.docsreview import DocsReview, review_docs
from postdeploy.domain.updates import Update, assess
from postdeploy.reporting.updates import ServiceUpdates
from postdeploy.settings import get_settings
from tasks.security import fetch_latest, last_deploys, read_dependencies, read_docs
from tasks.security import write_update_report as write_report


def _index_status(templates: dict[str, str], latest: dict[str, dict[str, Latest]]) -> str:
    parts = []
    for eco, template in templates.items():
        got = latest.get(eco, {})
        down = [r for r in got.values() if r.error and "unreachable" in r.error]
        if got and len(down) == len(got):
            parts.append(f"{eco} index {template}: UNREACHABLE ({down[0].error})")
        else:
            parts.append(f"{eco} index {template}: {len(got) - len(down)}/{len(got)} answered")
    return "Package index: " + ("; ".join(parts) or "no dependencies to look up")


@flow(name="update-review", description="Majors behind, end of life, and documentation review.")
def update_review(
    catalog_path: str | None = None, store_block: str | None = None
) -> dict[str, Any]:
    """Write reports/updates/<quarter>/ and the `update-review` artifact.

    Args:
        catalog_path: the catalog file; default POSTDEPLOY_CATALOG.
        store_block: a StoreConnection block; default POSTDEPLOY_DATABASE_URL.
    """
    cat = load(catalog_path)
    sec, now = cat.security, time.time()
    today = datetime.fromtimestamp(now, UTC).date()
    timeout = sec.timeout.total_seconds()
    files = {s.name: (str(s.dependencies.file), s.dependencies.ecosystem)
             for s in cat.services if s.dependencies}  # fmt: skip
    pins = read_dependencies(files)
    templates = {"PyPI": sec.package_index, "npm": sec.npm_index}
    wanted: dict[str, set[str]] = {}
    for name, (_, eco) in files.items():
        got = pins[name]
        wanted.setdefault(eco, set()).update(n for n, _ in ([] if isinstance(got, str) else got))
    templates = {eco: templates[eco] for eco in wanted}
    futures = {
        eco: fetch_latest.submit(sorted(names), templates[eco], timeout)
        for eco, names in wanted.items()
    }
    latest = {eco: cast(dict[str, Latest], f.result()) for eco, f in futures.items()}
    index = _index_status(templates, latest)

    folders = {s.name: str(s.docs) for s in cat.services if s.docs}
    docs = read_docs(folders)
    deploys = with_store_retries(last_deploys)(store_url(store_block), sorted(folders), now)

    reviews = []
    for s in cat.services:
        updates: list[Update] = []
        why = "no `dependencies:` in the catalog"
        if s.dependencies:
            got = pins[s.name]
            eco = s.dependencies.ecosystem
            if isinstance(got, str):
                why = got
            else:
                why = f"{s.dependencies.file} ({eco}, {len(got)} pinned)"
                for name, version in got:
                    answer = latest[eco].get(name, Latest(name, None, "not looked up"))
                    updates.append(assess(name, version, answer.version, eol=sec.eol,
                                          today=today, error=answer.error))  # fmt: skip
        review: DocsReview | None = None
        problem = ""
        if s.name in docs:
            facts = docs[s.name]
            if isinstance(facts, str):
                problem = facts
            else:
                review = review_docs(
                    s.name, facts[0], last_deploy=deploys.get(s.name), present=facts[1],
                    grace_s=sec.docs_grace.total_seconds(),
                )  # fmt: skip
        reviews.append(ServiceUpdates(s.name, updates, why, review, problem))

    path = write_report(reviews, index, get_settings().reports_dir, now)
    get_run_logger().info("update review: %s", path)
    return {
        "behind": {
            r.name: [f"{u.name} {u.installed} -> {u.latest} ({u.verdict})"
                     for u in r.updates if u.severity in ("high", "medium")]
            for r in reviews if r.updates
        },
        "docs": {
            r.name: {"stale": r.docs.stale, "missing": list(r.docs.missing),
                     "broken_links": [f"{d} -> {link}" for d, link in r.docs.broken_links]}
            if r.docs else r.docs_problem or "no docs folder"
            for r in reviews
        },
        "index": index,
        "report": str(path),
    }  # fmt: skip
