"""Request limits of the hooks API, applied before any route runs: a body size limit (declared
or streamed) and a token-bucket rate limit per bearer token, or per client address for
requests without a valid token, so a flood of bad tokens cannot use up a good token's budget."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from postdeploy.api.auth import TokenAuth


async def answer(
    send: Send, status: int, detail: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for a body over `limit` bytes: a declared Content-Length is refused before any of
    the body is read, a chunked one as soon as it grows past the limit. The app gets the body
    already read, so no route can read an unbounded one."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await answer(send, 413, f"body of {declared} bytes is over the {self.limit} byte limit")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await answer(send, 413, f"body is over the {self.limit} byte limit")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # after the body: wait for the disconnect
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


@dataclass
class Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """One token bucket per key: `burst` requests at once, refilled at `per_minute`. At most
    `max_keys` buckets are kept: a full bucket is forgotten when room is needed (it would come
    back full anyway); while every kept bucket is in use, a new key waits for room instead of
    pushing out a spent bucket, which would hand that key a fresh budget."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: dict[str, Bucket] = {}
        self._no_room_until = 0.0

    def take(self, key: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            wait = self._make_room(now)
            if wait > 0:
                return wait
            bucket = self._buckets[key] = Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def _make_room(self, now: float) -> float:
        if len(self._buckets) < self.max_keys:
            return 0.0
        if now < self._no_room_until:  # no scan per request while a flood lasts
            return self._no_room_until - now
        missing = {
            k: self.burst - b.tokens - (now - b.at) * self.rate for k, b in self._buckets.items()
        }
        for key in [k for k, m in missing.items() if m <= 0]:
            del self._buckets[key]
        if len(self._buckets) < self.max_keys:
            return 0.0
        self._no_room_until = now + min(missing.values()) / self.rate  # a bucket is full again
        return self._no_room_until - now


class RateLimit:
    """429 with Retry-After once a bearer token, or a client address sending no valid token,
    has used its budget."""

    def __init__(
        self, app: ASGIApp, auth: TokenAuth, tokens: TokenBuckets, anonymous: TokenBuckets
    ) -> None:
        self.app = app
        self.auth = auth
        self.tokens = tokens
        self.anonymous = anonymous

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = TokenAuth.bearer(Headers(scope=scope).get("authorization", ""))
        if given and await self.auth.accepts(given):
            # a digest, not the token, is what stays in memory
            key, buckets, who = hashlib.sha256(given.encode()).hexdigest(), self.tokens, "token"
        else:
            client = scope.get("client")
            key, buckets, who = (client[0] if client else "unknown"), self.anonymous, "address"
        wait = buckets.take(key)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            detail = (
                f"rate limit: {buckets.rate * 60:g} requests per minute (burst {buckets.burst:g})"
                f" per {who}; retry in {seconds} s"
            )
            await answer(send, 429, detail, {"Retry-After": str(seconds)})
            return
        await self.app(scope, receive, send)
