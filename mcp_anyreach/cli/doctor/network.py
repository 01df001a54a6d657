"""The "base URL", "DNS", "TCP" and "TLS" checks, run once: can this machine reach the API at all?

Each step runs only after the one before passed, so a failure names the first thing to fix. The server's
start-up calls `reachability_problem` too, to log in the background why the API cannot be reached.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Awaitable, Callable

import anyio
import httpx2

from mcp_anyreach.api.errors import display_url
from mcp_anyreach.cli.doctor.report import DEFAULT_TIMEOUT, Report
from mcp_anyreach.domain.networks import is_loopback


async def check_network(report: Report, base_url: str, per_check: float) -> bool:
    """Base URL, DNS, TCP and TLS, each only after the one before passed."""
    steps = ["DNS", "TCP", "TLS"]
    shown = display_url(base_url)  # the URL may carry a password or a key in its query
    try:
        url = httpx2.URL(base_url)
    except (httpx2.InvalidURL, ValueError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        report.add(
            "base URL",
            "fail",
            f"{shown!r} is not an http(s) URL",
            "Set ANYREACH_BASE_URL to https://api.anyreach.ai (or unset it).",
        )
        report.skip(steps, "a valid base URL")
        return False
    host, port = url.host, url.port or (443 if url.scheme == "https" else 80)
    if url.scheme == "http" and not is_loopback(host):
        report.add(
            "base URL",
            "warn",
            f"{shown} is plain HTTP: the token would cross the network unencrypted",
            "Use https:// unless this is a sandbox on your own machine.",
        )
    else:
        report.add("base URL", "ok", shown)
    for step, probe in (("DNS", _resolve), ("TCP", _connect), ("TLS", _handshake)):
        if step == "TLS" and url.scheme == "http":
            report.add("TLS", "skip", "plain HTTP, no TLS")
            continue
        failure = await _probe(probe, host, port, per_check)
        if failure is not None:
            report.add(step, "fail", failure, _NETWORK_FIXES[step].format(host=host, port=port))
            report.skip(steps[steps.index(step) + 1 :], f"{step} to succeed")
            return False
        report.add(step, "ok", f"{host}:{port}" if step != "DNS" else f"{host} resolves")
    return True


_NETWORK_FIXES = {
    "DNS": "Check the host name in ANYREACH_BASE_URL, and this machine's network and DNS settings.",
    "TCP": "Check that {host}:{port} is reachable from this machine (firewall, VPN, proxy); "
    "for a local sandbox, start it with `mcp-anyreach sandbox`.",
    "TLS": "The TLS handshake with {host}:{port} failed: behind a proxy that inspects TLS, point SSL_CERT_FILE "
    "at its CA certificate; for a plain-HTTP sandbox, use an http:// base URL.",
}


async def reachability_problem(base_url: str, per_check: float = DEFAULT_TIMEOUT) -> str | None:
    """Why the API at `base_url` cannot be reached (DNS, TCP, TLS), or None when it can."""
    report = Report(base_url=display_url(base_url), read_only=True)
    if await check_network(report, base_url, per_check):
        return None
    return next(f"{check.name}: {check.detail}" for check in report.checks if check.status == "fail")


Probe = Callable[[str, int], Awaitable[None]]


async def _probe(probe: Probe, host: str, port: int, per_check: float) -> str | None:
    try:
        with anyio.fail_after(per_check):
            await probe(host, port)
    except TimeoutError:
        return f"no answer from {host}:{port} within {per_check:g} s"
    except (OSError, ssl.SSLError, anyio.BrokenResourceError) as exc:
        return f"{host}:{port}: {_reason(exc)}"
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc.__cause__, OSError):  # anyio's "All connection attempts failed" wraps the last one
        exc = exc.__cause__
    if isinstance(exc, socket.gaierror):
        return f"the name does not resolve ({exc.strerror or exc})"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"its certificate is not trusted ({exc.verify_message or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (nothing listens there)"
    return str(exc) or type(exc).__name__


async def _resolve(host: str, port: int) -> None:
    await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)


async def _connect(host: str, port: int) -> None:
    stream = await anyio.connect_tcp(host, port)
    await stream.aclose()


async def _handshake(host: str, port: int) -> None:
    stream = await anyio.connect_tcp(
        host, port, ssl_context=ssl.create_default_context(), tls_standard_compatible=False
    )
    await stream.aclose()
