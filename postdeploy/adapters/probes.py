"""HTTP(S) probes: status, latency, expected keyword and TLS certificate expiry, concurrently.

Every failure of the target (refused, DNS, timeout, TLS, bad status) becomes a failed
CheckOutcome with the reason in `detail`; probing never raises for a target's fault.
"""

from __future__ import annotations

import asyncio
import resource
import socket
import ssl
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from postdeploy.adapters.http1 import ProtocolError, Response, fetch
from postdeploy.domain.checks import CheckOutcome, ProbeSpec

MAX_BODY = 1 << 20
FD_RESERVE = 64


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
    if isinstance(exc, TimeoutError):
        return f"timeout after {spec.timeout_s:g}s"
    chain = _causes(exc)
    text = " <- ".join(dict.fromkeys(str(e) for e in chain if str(e))) or type(exc).__name__
    kinds = tuple(type(e) for e in chain)
    if any(issubclass(k, ssl.SSLError | ssl.CertificateError) for k in kinds):
        return f"TLS error: {text}"
    if any(issubclass(k, socket.gaierror) for k in kinds):
        return f"DNS lookup failed: {text}"
    if any(issubclass(k, ConnectionRefusedError) for k in kinds):
        return f"connection refused: {text}"
    cut = next((e for e in chain if isinstance(e, asyncio.IncompleteReadError)), None)
    if cut is not None:
        got = len(cut.partial)
        if cut.expected is None and not got:
            return "connection dropped: closed without an answer"
        if cut.expected is None:
            return f"connection dropped: closed mid-answer after {got} bytes"
        return f"connection dropped: closed after {got} of {cut.expected} body bytes"
    if any(issubclass(k, ConnectionResetError) for k in kinds):
        return f"connection dropped: {text or 'closed before a complete answer'}"
    if isinstance(exc, ProtocolError | asyncio.LimitOverrunError | ValueError):
        return f"bad HTTP answer: {text}"
    return f"{type(exc).__name__}: {text}"


def _cert_expiry(response: Response) -> float | None:
    not_after = (response.peer_cert or {}).get("notAfter")
    return float(ssl.cert_time_to_seconds(str(not_after))) if not_after else None


def _judge(spec: ProbeSpec, response: Response, ts: float, latency: float) -> CheckOutcome:
    status = response.status
    problems = []
    if status not in spec.expect_status:
        wanted = ", ".join(map(str, spec.expect_status))
        problems.append(f"HTTP {status}, expected {wanted}")
    if spec.expect_keyword is not None and spec.expect_keyword.encode() not in response.body:
        problems.append(f"keyword {spec.expect_keyword!r} not in body")
    notes = []
    expires = _cert_expiry(response)
    if expires is not None:
        stamp = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%d")
        if expires - ts < spec.cert_warning_s:
            notes.append(f"certificate expires in {(expires - ts) / 86400:.1f} days ({stamp})")
        else:
            notes.append(f"certificate valid until {stamp}")
    detail = "; ".join((problems or [f"HTTP {status}"]) + notes)
    return CheckOutcome(
        spec.service, spec.check, not problems, ts, latency, status, detail, expires
    )


async def _probe(spec: ProbeSpec, ssl_context: ssl.SSLContext | None) -> CheckOutcome:
    ts = time.time()
    start = time.perf_counter()
    try:
        async with asyncio.timeout(spec.timeout_s):
            response = await fetch(
                spec.method,
                spec.url,
                headers=dict(spec.headers),
                ssl_context=ssl_context,
                read_body=spec.expect_keyword is not None,
                limit=MAX_BODY,
                require_complete=True,  # a 200 cut short is a server fault, not a pass
            )
    except Exception as exc:  # a target's fault is a failed check, never a crashed sweep
        latency = (time.perf_counter() - start) * 1000
        return CheckOutcome(spec.service, spec.check, False, ts, latency, None, _reason(exc, spec))
    return _judge(spec, response, ts, (time.perf_counter() - start) * 1000)


def _fd_budget(wanted: int) -> int:
    """Raise the soft open-files limit toward the hard one; never open more than it allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FD_RESERVE))


async def probe_many(specs: Sequence[ProbeSpec], *, concurrency: int = 1000) -> list[CheckOutcome]:
    """Probe every spec concurrently (bounded); results come back in the specs' order."""
    if not specs:
        return []
    gate = asyncio.Semaphore(_fd_budget(min(concurrency, len(specs))))
    contexts: dict[str | None, ssl.SSLContext | None] = {}
    bad_ca: dict[str | None, str] = {}
    for ca_file in {s.ca_file for s in specs if s.url.startswith("https:")}:
        try:
            ctx = ssl.create_default_context()  # built once per sweep: it costs ~40 ms
            if ca_file:
                ctx.load_verify_locations(cafile=ca_file)
            contexts[ca_file] = ctx
        except (OSError, ssl.SSLError) as exc:  # one bad ca_file must not sink the sweep
            bad_ca[ca_file] = f"TLS error: cannot load ca_file {ca_file}: {exc}"

    async def bounded(spec: ProbeSpec) -> CheckOutcome:
        if spec.ca_file in bad_ca and spec.url.startswith("https:"):
            reason = bad_ca[spec.ca_file]
            return CheckOutcome(spec.service, spec.check, False, time.time(), None, None, reason)
        async with gate:
            return await _probe(spec, contexts.get(spec.ca_file))

    return list(await asyncio.gather(*(bounded(s) for s in specs)))
