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


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, then its causes, contexts and exception-group members."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo.extend(getattr(e, "exceptions", ()))
        todo += [e.__cause__, e.__context__]
    return seen


def _reason(exc: BaseException, spec: ProbeSpec) -> str:
    if isinstance(exc, httpx.TimeoutException | asyncio.TimeoutError):
        return f"timeout after {spec.timeout_s:g}s ({type(exc).__name__})"
    # anyio (under httpx) wraps a failed connect as OSError("All connection attempts failed")
    # with the real error (ConnectionRefusedError, ...) as __cause__: classify on the whole chain.
    chain = _causes(exc)
    text = " <- ".join(dict.fromkeys(str(e) for e in chain if str(e))) or type(exc).__name__
    lowered = text.lower()
    if "certificate" in lowered or "ssl" in lowered or isinstance(exc, ssl.SSLError):
        return f"TLS error: {text}"
    if "name or service not known" in lowered or "nodename" in lowered or "getaddrinfo" in lowered:
        return f"DNS lookup failed: {text}"
    if "temporary failure in name resolution" in lowered or "no address" in lowered:
        return f"DNS lookup failed: {text}"
    if "refused" in lowered or any(isinstance(e, ConnectionRefusedError) for e in chain):
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
    detail = "; ".join((problems or [f"HTTP {status}"]) + notes)
    return CheckOutcome(spec.service, spec.check, ok, ts, latency, status, detail, expires)


async def probe_many(specs: Sequence[ProbeSpec], *, concurrency: int = 1000) -> list[CheckOutcome]:
    """Probe every spec concurrently (bounded); results come back in the specs' order."""
    if not specs:
        return []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    clients: dict[str | None, httpx.AsyncClient] = {}
    bad_ca: dict[str | None, str] = {}
    for ca_file in {s.ca_file for s in specs}:
        try:
            ctx = _ssl_context(ca_file)
        except (OSError, ssl.SSLError) as exc:  # one bad ca_file must not sink the sweep
            bad_ca[ca_file] = f"TLS error: cannot load ca_file {ca_file}: {exc}"
            continue
        clients[ca_file] = httpx.AsyncClient(
            verify=ctx, limits=limits, follow_redirects=True, trust_env=False
        )

    async def bounded(spec: ProbeSpec) -> CheckOutcome:
        if spec.ca_file in bad_ca:
            return CheckOutcome(
                spec.service, spec.check, False, time.time(), None, None, bad_ca[spec.ca_file]
            )
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
