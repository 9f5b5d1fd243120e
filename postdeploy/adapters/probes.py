"""HTTP(S) probes: status, latency, expected keyword and TLS certificate expiry, concurrently.

Every failure of the target (refused, DNS, timeout, TLS, bad status) becomes a failed
CheckOutcome with the reason in `detail`; probing never raises for a target's fault.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Sequence
from datetime import datetime

import httpx

from postdeploy.domain.checks import CheckOutcome, ProbeSpec

MAX_BODY = 1 << 20


def _ssl_context(ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    return ctx


def _reason(exc: BaseException, spec: ProbeSpec) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException | asyncio.TimeoutError):
        return f"timeout after {spec.timeout_s:g}s ({type(exc).__name__})"
    lowered = text.lower()
    if "certificate" in lowered or "ssl" in lowered or isinstance(exc, ssl.SSLError):
        return f"TLS error: {text}"
    if "name or service not known" in lowered or "nodename" in lowered or "getaddrinfo" in lowered:
        return f"DNS lookup failed: {text}"
    if "temporary failure in name resolution" in lowered or "no address" in lowered:
        return f"DNS lookup failed: {text}"
    if "refused" in lowered:
        return f"connection refused: {text}"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return f"connection dropped: {text}"
    return f"{type(exc).__name__}: {text}"


def _cert_expiry(response: httpx.Response) -> float | None:
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return None
    cert = ssl_object.getpeercert()
    not_after = cert.get("notAfter") if cert else None
    return float(ssl.cert_time_to_seconds(not_after)) if not_after else None


async def _probe(client: httpx.AsyncClient, spec: ProbeSpec) -> CheckOutcome:
    ts = time.time()
    start = time.perf_counter()
    try:
        async with asyncio.timeout(spec.timeout_s):
            async with client.stream(
                spec.method, spec.url, headers=dict(spec.headers), timeout=spec.timeout_s
            ) as response:
                expires = _cert_expiry(response)
                body = b""
                if spec.expect_keyword is not None:
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) >= MAX_BODY:
                            break
    except (httpx.HTTPError, OSError, ssl.SSLError, TimeoutError) as exc:
        latency = (time.perf_counter() - start) * 1000
        return CheckOutcome(spec.service, spec.check, False, ts, latency, None, _reason(exc, spec))
    latency = (time.perf_counter() - start) * 1000
    status = response.status_code
    problems = []
    if status not in spec.expect_status:
        wanted = ", ".join(map(str, spec.expect_status))
        problems.append(f"HTTP {status}, expected {wanted}")
    if spec.expect_keyword is not None and spec.expect_keyword.encode() not in body:
        problems.append(f"keyword {spec.expect_keyword!r} not in body")
    notes = []
    if expires is not None:
        days = (expires - ts) / 86400
        stamp = datetime.fromtimestamp(expires).strftime("%Y-%m-%d")
        if expires - ts < spec.cert_warning_s:
            notes.append(f"certificate expires in {days:.1f} days ({stamp})")
        else:
            notes.append(f"certificate valid until {stamp}")
    ok = not problems
    detail = "; ".join(problems + notes) or f"HTTP {status}"
    return CheckOutcome(spec.service, spec.check, ok, ts, latency, status, detail, expires)


async def probe_many(specs: Sequence[ProbeSpec], *, concurrency: int = 1000) -> list[CheckOutcome]:
    """Probe every spec concurrently (bounded); results come back in the specs' order."""
    if not specs:
        return []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    clients: dict[str | None, httpx.AsyncClient] = {}
    for ca_file in {s.ca_file for s in specs}:
        clients[ca_file] = httpx.AsyncClient(
            verify=_ssl_context(ca_file), limits=limits, follow_redirects=True, trust_env=False
        )

    async def bounded(spec: ProbeSpec) -> CheckOutcome:
        async with gate:
            try:
                return await _probe(clients[spec.ca_file], spec)
            except Exception as exc:  # a probe must never crash the sweep
                return CheckOutcome(
                    spec.service, spec.check, False, time.time(), None, None, _reason(exc, spec)
                )

    try:
        return list(await asyncio.gather(*(bounded(s) for s in specs)))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients.values()))
