"""Sending one request to a webhook's target, bounded in time and size.

The target is checked (``addresses``) just before, and the connection goes
to the address that was checked, with the name in ``Host`` and in TLS's
SNI, so that a name resolving elsewhere a moment later changes nothing.
Redirects are not followed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from . import addresses
from .payloads import Outgoing

# Bytes of a target's answer read, for the log; the rest is not read.
MAX_ANSWER_BYTES = 1024


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    # Seconds the target asked to wait before trying again, if it did.
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=settings.RADIO_WEBHOOK_TIMEOUT_SECONDS,
        # Proxies from the environment would see the pinned address only.
        trust_env=False,
    )


async def send(http: httpx.AsyncClient, outgoing: Outgoing) -> Answer:
    """POST ``outgoing``; raises ``addresses.UnsafeTarget``, ``httpx.HTTPError``
    or ``TimeoutError`` (after ``RADIO_WEBHOOK_TIMEOUT_SECONDS`` in all)."""
    async with asyncio.timeout(settings.RADIO_WEBHOOK_TIMEOUT_SECONDS):
        target = await addresses.acheck(outgoing.url)
        parts = urlsplit(outgoing.url)
        pinned = target.pinned_origin + (parts.path or "/")
        if parts.query:
            pinned += "?" + parts.query
        headers = {**outgoing.headers, "Host": parts.netloc.rpartition("@")[2]}
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        async with http.stream(
            "POST",
            pinned,
            content=outgoing.body,
            headers=headers,
            extensions=extensions,
        ) as response:
            text = await _start_of(response)
            retry_after = response.headers.get("Retry-After", "")
            return Answer(response.status_code, text, _seconds(retry_after))


def _seconds(value: str) -> float | None:
    """Retry-After in seconds; its HTTP-date form is not followed."""
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


async def _start_of(response: httpx.Response) -> str:
    read = b""
    async for chunk in response.aiter_bytes():
        read += chunk
        if len(read) >= MAX_ANSWER_BYTES:
            break
    return read[:MAX_ANSWER_BYTES].decode(errors="replace")
