"""Documentation review rules over given file facts (pure)."""

from __future__ import annotations

from postdeploy.domain.docsreview import DocFile, links_in, review_docs

DAY = 86400.0
DEPLOY = 1_800_000_000.0
COMPLETE = {
    "architecture.md": DocFile(DEPLOY + DAY, ("api.md", "https://example.com/x", "#top")),
    "api/openapi.md": DocFile(DEPLOY - DAY, ("../runbook.md#restart", "/architecture.md")),
    "troubleshooting.md": DocFile(DEPLOY - DAY),
    "runbook.md": DocFile(DEPLOY - DAY),
    "CHANGELOG.md": DocFile(DEPLOY - DAY),
}


def test_complete_fresh_docs_with_working_links_pass() -> None:
    review = review_docs("shop", COMPLETE, last_deploy=DEPLOY, present=frozenset({"api.md"}))
    assert review.ok, review
    assert review.found["release notes"] == "CHANGELOG.md"


def test_docs_last_changed_before_the_last_deploy_are_stale() -> None:
    old = {k: DocFile(DEPLOY - 10 * DAY) for k in COMPLETE}
    assert review_docs("shop", old, last_deploy=DEPLOY).stale
    assert not review_docs("shop", old, last_deploy=DEPLOY, grace_s=30 * DAY).stale
    assert not review_docs("shop", old, last_deploy=None).stale


def test_missing_required_documents_are_named() -> None:
    review = review_docs("shop", {"readme.md": DocFile(DEPLOY)}, last_deploy=DEPLOY)
    assert review.missing == ("architecture", "API", "troubleshooting", "runbook", "release notes")


def test_a_link_to_a_document_that_does_not_exist_is_broken() -> None:
    files = {**COMPLETE, "runbook.md": DocFile(DEPLOY, ("guides/restart.md", "../README.md"))}
    review = review_docs("shop", files, last_deploy=DEPLOY, present=frozenset({"../README.md"}))
    # api.md is not there (only api/openapi.md); ../README.md and /architecture.md are
    assert review.broken_links == (
        ("architecture.md", "api.md"),
        ("runbook.md", "guides/restart.md"),
    )


def test_an_empty_docs_folder_is_stale_and_misses_everything() -> None:
    review = review_docs("shop", {}, last_deploy=None)
    assert review.stale and len(review.missing) == 5


def test_links_are_read_from_markdown_references_and_html() -> None:
    text = '[a](one.md) ![img](pic.png "t")\n[ref]: two.md\n<a href="three.html">x</a>'
    assert links_in(text) == ("one.md", "pic.png", "two.md", "three.html")
