"""TLS facts of https endpoints: negotiated protocol, certificate expiry, legacy protocols
still accepted, and the response's security headers; concurrently, never raising."""

from __future__ import annotations

import asyncio
import ssl
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from postdeploy.adapters.http1 import fetch

LEGACY = (("TLSv1", ssl.TLSVersion.TLSv1), ("TLSv1.1", ssl.TLSVersion.TLSv1_1))


@dataclass(frozen=True)
class Endpoint:
    service: str
    check: str
    url: str
    ca_file: str | None = None
    timeout_s: float = 10.0
    headers: bool = True  # read the response's headers too, not just the TLS handshake


@dataclass(frozen=True)
class EndpointFacts:
    endpoint: Endpoint
    protocol: str | None = None
    expires_at: float | None = None
    legacy_accepted: tuple[str, ...] = ()
    tls_error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # the endpoint could not be reached at all


def _context(ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    return ctx


async def _handshake(host: str, port: int, ctx: ssl.SSLContext, timeout: float) -> ssl.SSLObject:
    async with asyncio.timeout(timeout):
        _, writer = await asyncio.open_connection(host, port, ssl=ctx, server_hostname=host)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        assert ssl_object is not None
        return ssl_object  # type: ignore[no-any-return]
    finally:
        writer.close()


async def _legacy(host: str, port: int, timeout: float) -> tuple[str, ...]:
    """Legacy protocols the server still completes a handshake with (when OpenSSL can try)."""
    accepted = []
    for name, version in LEGACY:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        try:
            ctx.set_ciphers("ALL:@SECLEVEL=0")
            with warnings.catch_warnings():  # deprecated protocols are what we look for
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ctx.maximum_version = version
            await _handshake(host, port, ctx, timeout)
        except (OSError, ssl.SSLError, ValueError, TimeoutError):
            continue  # refused by the server, or this OpenSSL cannot speak it
        accepted.append(name)
    return tuple(accepted)


async def _inspect(endpoint: Endpoint) -> EndpointFacts:
    parts = urlsplit(endpoint.url)
    host, https = parts.hostname or "", parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    protocol = expires = tls_error = None
    legacy: tuple[str, ...] = ()
    ctx: ssl.SSLContext | None = None
    if https:
        try:
            ctx = _context(endpoint.ca_file)
        except (OSError, ssl.SSLError) as exc:  # a bad ca_file is the catalog's fault
            return EndpointFacts(endpoint, error=f"cannot load ca_file {endpoint.ca_file}: {exc}")
        try:
            ssl_object = await _handshake(host, port, ctx, endpoint.timeout_s)
            protocol = ssl_object.version()
            not_after = (ssl_object.getpeercert() or {}).get("notAfter")
            expires = float(ssl.cert_time_to_seconds(str(not_after))) if not_after else None
        except (ssl.SSLError, ssl.CertificateError) as exc:
            tls_error = str(exc)
        except (OSError, TimeoutError) as exc:
            return EndpointFacts(endpoint, error=f"unreachable: {exc or 'timeout'}")
        legacy = await _legacy(host, port, endpoint.timeout_s)
    headers: dict[str, str] = {}
    error = None
    if tls_error is None and endpoint.headers:
        try:
            async with asyncio.timeout(endpoint.timeout_s):
                response = await fetch("GET", endpoint.url, ssl_context=ctx, read_body=False)
            headers = response.headers
        except Exception as exc:  # a target's fault is a finding to report, never a crash
            error = f"no response: {type(exc).__name__}: {exc}"
    return EndpointFacts(endpoint, protocol, expires, legacy, tls_error, headers, error)


async def inspect_many(
    endpoints: Sequence[Endpoint], *, concurrency: int = 32
) -> list[EndpointFacts]:
    gate = asyncio.Semaphore(concurrency)

    async def bounded(endpoint: Endpoint) -> EndpointFacts:
        async with gate:
            return await _inspect(endpoint)

    return list(await asyncio.gather(*(bounded(e) for e in endpoints)))
