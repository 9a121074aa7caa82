"""Whether a webhook may be sent to a URL: never to this machine or the
private networks around it (server-side request forgery), unless
``RADIO_WEBHOOK_ALLOW_PRIVATE`` says this installation means to.

Checked when a webhook is made and again before each delivery, as a name
may resolve elsewhere later; the delivery then connects to the address that
was checked (``Target``), so the name cannot be resolved a third time.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

SCHEMES = {"http": 80, "https": 443}
# Seconds a name may take to resolve when a webhook is made.
RESOLVE_TIMEOUT_S = 3.0
_resolver = concurrent.futures.ThreadPoolExecutor(
    max_workers=4, thread_name_prefix="webhook-resolve"
)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(ValueError):
    """The URL may not be sent to; the message says why."""


@dataclass(frozen=True)
class Target:
    """A URL's parts, and the address it was found to have."""

    scheme: str
    host: str
    port: int
    address: str

    @property
    def pinned_origin(self) -> str:
        """The origin by the checked address rather than by name."""
        address = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{address}:{self.port}"


def split(url: str) -> tuple[str, str, int]:
    """The scheme, host and port of ``url``; refused if not a plain
    http(s) URL without credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as problem:
        raise UnsafeTarget(f"Not a URL: {problem}.") from None
    if parts.scheme not in SCHEMES:
        raise UnsafeTarget("Only http:// and https:// URLs can be webhooks.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("A webhook URL may not hold a user name or password.")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.")
    return parts.scheme, parts.hostname, port or SCHEMES[parts.scheme]


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not on the public internet, or None if it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    # Most telling first: Python counts link-local and more as private too.
    for flag in (
        "is_loopback",
        "is_link_local",
        "is_multicast",
        "is_unspecified",
        "is_reserved",
        "is_private",
    ):
        if getattr(address, flag):
            return f"{address} is {flag[3:].replace('_', '-')}"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def allow_private() -> bool:
    return settings.RADIO_WEBHOOK_ALLOW_PRIVATE


def choose(host: str, addresses: list[str]) -> str:
    """The first of ``host``'s ``addresses``, if none of them is private."""
    if not addresses:
        raise UnsafeTarget(f"{host} has no address.")
    if not allow_private():
        for text in addresses:
            reason = refusal(ipaddress.ip_address(text.split("%")[0]))
            if reason:
                where = reason if host == text else f"{host} resolves to {reason}"
                raise UnsafeTarget(
                    f"{where}: webhooks go to public addresses only "
                    "(RADIO_WEBHOOK_ALLOW_PRIVATE=1 allows others)."
                )
    return addresses[0]


def _addresses(infos: list) -> list[str]:
    return list(dict.fromkeys(info[4][0] for info in infos))


def check(url: str) -> Target:
    """The URL's target, resolved now; :class:`UnsafeTarget` if refused.

    Gives up on a name that takes over ``RESOLVE_TIMEOUT_S`` to resolve:
    it runs in the thread that serves requests, which must not hang.
    """
    scheme, host, port = split(url)
    looking_up = _resolver.submit(
        socket.getaddrinfo, host, port, type=socket.SOCK_STREAM
    )
    try:
        infos = looking_up.result(timeout=RESOLVE_TIMEOUT_S)
    except concurrent.futures.TimeoutError:
        raise UnsafeTarget(f"{host} did not resolve in time.") from None
    except OSError as problem:
        raise UnsafeTarget(f"Cannot resolve {host}: {problem}.") from None
    return Target(scheme, host, port, choose(host, _addresses(infos)))


async def acheck(url: str) -> Target:
    """:func:`check` without blocking the event loop."""
    scheme, host, port = split(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )
    except OSError as problem:
        raise UnsafeTarget(f"Cannot resolve {host}: {problem}.") from None
    return Target(scheme, host, port, choose(host, _addresses(infos)))
