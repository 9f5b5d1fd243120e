"""Bearer-token auth for the hooks API: the token comes from the environment or a Prefect
Secret block, and is compared in constant time."""

from __future__ import annotations

import hmac
from functools import cached_property
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from postdeploy.settings import Settings

# declares the scheme in the OpenAPI schema; the check itself is TokenAuth's
bearer_scheme = HTTPBearer(auto_error=False, description="POSTDEPLOY_HOOKS_TOKEN")


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

    @staticmethod
    def bearer(header: str) -> str | None:
        scheme, _, given = header.partition(" ")
        return given.strip() or None if scheme.lower() == "bearer" else None

    def valid(self, given: str | None) -> bool:
        expected = self.token
        return bool(expected and given) and hmac.compare_digest(
            str(given).encode(), str(expected).encode()
        )

    async def accepts(self, given: str) -> bool:
        """`valid` from async code: a Secret block is loaded, once, off the event loop."""
        if "token" not in self.__dict__:
            await run_in_threadpool(lambda: self.token)
        return self.valid(given)

    def __call__(
        self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]
    ) -> None:
        if not self.token:
            raise HTTPException(503, "hooks token not configured: set POSTDEPLOY_HOOKS_TOKEN")
        if credentials is None or not self.valid(credentials.credentials):
            raise HTTPException(401, "missing or bad bearer token", {"WWW-Authenticate": "Bearer"})
