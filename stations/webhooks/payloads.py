"""What each kind of webhook is sent for an event.

A delivery's payload is the generic body: the station's NowPlaying object
(``stations.api.nowplaying``) with ``event``, ``triggered_at`` and the
event's own facts. Discord and Mastodon get it retold as a post; titles and
names from users go in as plain data, never as markup that could mention
anyone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from .events import (
    DESCRIPTIONS,
    EPISODE_PUBLISHED,
    LISTENER_GAINED,
    LISTENER_LOST,
    LIVE_CONNECT,
    LIVE_DISCONNECT,
    SONG_CHANGED,
)
from .models import Webhook

SIGNATURE_HEADER = "X-Radio-Signature"
USER_AGENT = "radio-webhooks/1"
# Discord's limits on an embed's fields (discord.com/developers/docs,
# "Embed Limits").
DISCORD_TITLE_CHARS = 256
DISCORD_DESCRIPTION_CHARS = 4096
# Mastodon's default limit on a status.
MASTODON_STATUS_CHARS = 500
MASTODON_STATUSES_PATH = "/api/v1/statuses"
# After "@" so that a title such as "@everyone@example.social" mentions
# nobody; it is invisible.
ZERO_WIDTH_SPACE = "\u200b"


@dataclass(frozen=True)
class Outgoing:
    """An HTTP POST ready to send."""

    url: str
    headers: dict[str, str]
    body: bytes


def sign(secret: str, body: bytes) -> str:
    """The ``X-Radio-Signature`` of ``body``: its HMAC-SHA256 in hex."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def headline(payload: dict[str, Any]) -> tuple[str, str]:
    """A title and a line under it that say what happened."""
    event = payload["event"]
    station = payload["station"]["name"]
    if event == SONG_CHANGED:
        song = payload["now_playing"]["song"]
        return song["title"] or song["text"] or "Untitled", song["artist"]
    if event in (LIVE_CONNECT, LIVE_DISCONNECT):
        said = "is live on" if event == LIVE_CONNECT else "ended the live show on"
        return f"{payload.get('dj') or 'A DJ'} {said} {station}", ""
    if event in (LISTENER_GAINED, LISTENER_LOST):
        return f"{payload['listeners']['current']} listening to {station}", ""
    if event == EPISODE_PUBLISHED:
        return payload["episode"]["title"], f"A new episode of {station}"
    return f"{DESCRIPTIONS.get(event, event)}: {station}", ""


def link(payload: dict[str, Any]) -> str | None:
    """The page to point at: the episode's, else the station's, if absolute."""
    url = (payload.get("episode") or {}).get("url") or payload["station"]["url"]
    return url if url.startswith(("http://", "https://")) else None


def generic_request(webhook: Webhook, delivery_id: int, payload: dict) -> Outgoing:
    body = encode(payload)
    headers = {
        "Content-Type": "application/json",
        "X-Radio-Event": payload["event"],
        "X-Radio-Delivery": str(delivery_id),
        SIGNATURE_HEADER: sign(webhook.secret, body),
    }
    return Outgoing(webhook.url, headers, body)


def discord_body(payload: dict[str, Any]) -> dict[str, Any]:
    """A Discord "Execute Webhook" body: one embed, and no mentions."""
    title, description = headline(payload)
    embed: dict[str, Any] = {
        "title": title[:DISCORD_TITLE_CHARS],
        "author": {"name": payload["station"]["name"][:DISCORD_TITLE_CHARS]},
        "footer": {"text": DESCRIPTIONS.get(payload["event"], payload["event"])},
        "timestamp": payload["triggered_at"],
    }
    if description:
        embed["description"] = description[:DISCORD_DESCRIPTION_CHARS]
    if url := link(payload):
        embed["url"] = url
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


def discord_request(webhook: Webhook, payload: dict) -> Outgoing:
    headers = {"Content-Type": "application/json"}
    return Outgoing(webhook.url, headers, encode(discord_body(payload)))


def mastodon_status(payload: dict[str, Any]) -> str:
    """The status text, within Mastodon's length, mentioning nobody."""
    title, description = headline(payload)
    what = DESCRIPTIONS.get(payload["event"], payload["event"])
    text = f"{what}: {title}" + (f" - {description}" if description else "")
    text = text.replace("@", "@" + ZERO_WIDTH_SPACE)
    url = link(payload)
    room = MASTODON_STATUS_CHARS - (len(url) + 1 if url else 0)
    if len(text) > room:
        text = text[: room - 1] + "…"
    return f"{text}\n{url}" if url else text


def mastodon_statuses_url(instance_url: str) -> str:
    base = instance_url.rstrip("/")
    if base.endswith(MASTODON_STATUSES_PATH):
        return base
    return base + MASTODON_STATUSES_PATH


def mastodon_request(webhook: Webhook, delivery_id: int, payload: dict) -> Outgoing:
    headers = {
        "Content-Type": "application/json",
        "Authorization": f"Bearer {webhook.secret}",
        # Mastodon keeps it for an hour: a retry after a lost answer does
        # not post twice.
        "Idempotency-Key": f"radio-delivery-{delivery_id}",
    }
    body = encode({"status": mastodon_status(payload)})
    return Outgoing(mastodon_statuses_url(webhook.url), headers, body)


def request_for(webhook: Webhook, delivery_id: int, payload: dict) -> Outgoing:
    """The request that tells ``webhook`` of ``payload``."""
    if webhook.kind == Webhook.Kind.DISCORD:
        outgoing = discord_request(webhook, payload)
    elif webhook.kind == Webhook.Kind.MASTODON:
        outgoing = mastodon_request(webhook, delivery_id, payload)
    else:
        outgoing = generic_request(webhook, delivery_id, payload)
    outgoing.headers["User-Agent"] = USER_AGENT
    return outgoing
