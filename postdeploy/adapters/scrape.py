"""Scrape a service's /metrics (Prometheus text format) directly, when no Prometheus is set up."""

from __future__ import annotations

import httpx

from postdeploy.domain.metrics import Exposition, ExpositionError, parse_exposition


class ScrapeError(RuntimeError):
    """The scrape failed; the message names the URL and the reason."""


def scrape(url: str, *, timeout: float = 5.0) -> Exposition:
    try:
        response = httpx.get(url, timeout=timeout, headers={"Accept": "text/plain"})
    except httpx.HTTPError as exc:
        raise ScrapeError(f"scrape of {url} failed: {type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise ScrapeError(f"scrape of {url} failed: HTTP {response.status_code}")
    try:
        return parse_exposition(response.text)
    except ExpositionError as exc:
        raise ScrapeError(f"scrape of {url}: not Prometheus text format: {exc}") from None
