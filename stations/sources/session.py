"""A source client on air: its broadcast, fed from its socket until it ends.

Icecast and Shoutcast sources go on the same broadcast path as the web
console's DJ (``streaming.broadcast``): one producer per station, the idle
timeout, and the reconnect grace. An encoder cannot say "I stopped" apart
from "my network dropped" (both end the socket), so every end of the socket
suspends the broadcast: the AutoDJ fills in at once, and the encoder that
reconnects within the grace carries on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping

from radio import shutdown
from radio.protocol import MAX_TITLE_CHARS
from stations import broadcasts
from stations.runtime import run_in_background
from stations.streaming.broadcast import Broadcast, BroadcastTooFast, OnAir
from stations.streaming.bus import Claim
from stations.streaming.ingest import UnsupportedFormat
from stations.streaming.transcoder import TranscoderError

from .auth import SourceAccount
from .head import BadHead

logger = logging.getLogger(__name__)

# What a source's headers may say about its stream: OnAir field -> headers,
# Icecast's name first, then the Shoutcast one.
STREAM_HEADERS = {
    "name": ("ice-name", "icy-name"),
    "description": ("ice-description", "icy-description"),
    "genre": ("ice-genre", "icy-genre"),
    "url": ("ice-url", "icy-url"),
}


def on_air_from_headers(account: SourceAccount, headers: Mapping[str, str]) -> OnAir:
    """Who is on air, and the stream as the encoder's headers describe it."""
    described = {
        field: _printable(next((headers[n] for n in names if n in headers), ""))
        for field, names in STREAM_HEADERS.items()
    }
    return OnAir(dj=account.username, **described)


def _printable(text: str) -> str:
    return "".join(c for c in text if c.isprintable())[:MAX_TITLE_CHARS].strip()


async def go_live(
    account: SourceAccount,
    *,
    declared_mime: str,
    on_air: OnAir,
    on_lost: Callable[[str], None],
) -> Broadcast | None:
    """The account's broadcast, on air; None if another DJ is live.

    The audio's first bytes decide its format (``declared_mime`` is what
    the encoder said, often wrongly). Raises OutsideSlot if the station
    keeps DJs to their slots and this is not the account's, TranscoderError
    if the server cannot take audio now.
    """
    broadcast, claim = await broadcasts.go_live(
        account.station,
        user_id=account.lease_user_id,
        on_air=on_air,
        mime=declared_mime,
        sniff=True,
        on_lost=on_lost,
    )
    return None if claim is Claim.REFUSED else broadcast


async def carry(
    broadcast: Broadcast, audio: AsyncIterator[bytes], *, mount: str
) -> None:
    """Feed ``audio`` to the broadcast until the source ends or fails.

    A source whose audio cannot be used (too fast, undecodable) ends the
    broadcast at once; one that goes away leaves it suspended once what it
    sent has gone out. (An encoder that closes its socket with our answer
    unread resets it, so a reset is an ending too, not only a failure.)
    A worker that stops hands the broadcast over, suspended, and ends the
    source at its next chunk: the encoder reconnects to another worker.
    """
    shutdown.track(broadcast, broadcast.hand_over)
    try:
        async for chunk in audio:
            if not broadcast.live:
                return
            await broadcast.feed(chunk)
    except BroadcastTooFast:
        logger.warning("Source on %s sent audio faster than it plays; ended", mount)
        await broadcast.stop()
    except (UnsupportedFormat, TranscoderError) as problem:
        logger.warning(
            "Source on %s sent audio that cannot be used: %s", mount, problem
        )
        await broadcast.stop()
    except (ConnectionError, asyncio.IncompleteReadError, BadHead):
        pass
    finally:
        if broadcast.live:
            logger.info("Source on %s went away; waiting for it to come back", mount)
            run_in_background(broadcast.suspend(flush=True))
        shutdown.forget(broadcast)
