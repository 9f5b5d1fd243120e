"""Bearer-token auth for the hooks API: the token comes from the environment or a Prefect
Secret block, and is compared in constant time."""

from __future__ import annotations

import hmac
from functools import cached_property

from fastapi import HTTPException, Request

from postdeploy.settings import Settings


class TokenAuth:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def token(self) -> str | None:
        if self.settings.hooks_token is not None:
            return self.settings.hooks_token.get_secret_value() or None
        if self.settings.hooks_token_block:
            from prefect.blocks.system import Secret  # only when a block is named

            return str(Secret.load(self.settings.hooks_token_block).get())  # type: ignore[union-attr]
        return None

    def __call__(self, request: Request) -> None:
        expected = self.token
        if not expected:
            raise HTTPException(503, "hooks token not configured: set POSTDEPLOY_HOOKS_TOKEN")
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), expected.encode()):
            raise HTTPException(401, "missing or bad bearer token", {"WWW-Authenticate": "Bearer"})
