"""Every status a hooks API route can answer, described once for the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Problem(BaseModel):
    detail: str


DESCRIPTIONS = {
    400: "Not JSON, or not the expected payload: `detail` names the field; nothing stored.",
    401: "Missing or wrong bearer token.",
    404: "Not found: `detail` says what.",
    413: "Body over POSTDEPLOY_HOOKS_MAX_BODY_BYTES; refused before it is read.",
    429: "Rate limit reached for this token (or this address, without a valid token).",
    503: "Not configured (no hooks token) or a dependency (the Prefect API) is unreachable.",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}


def problems(*codes: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error statuses: `{"detail": reason}`; 413 and 429 always,
    since the limits apply to every route. A keyword like `s404=...` adds one, worded for
    the route."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in sorted({*codes, 413, 429, *(int(k[1:]) for k in described)}):
        text = described.get(f"s{code}", DESCRIPTIONS[code])
        out[code] = {"model": Problem, "description": text}
        if code == 429:
            out[code]["headers"] = RETRY_AFTER
    return out
