"""A DJ going live on a station, whichever way their audio comes in: the
console's broadcast socket or an Icecast or Shoutcast source."""

from __future__ import annotations

from collections.abc import Callable

from .models import Station
from .programme.recording import recording_start
from .runtime import broadcast_settings, get_bus
from .streaming.broadcast import Broadcast, OnAir
from .streaming.bus import Claim


async def go_live(
    station: Station,
    *,
    user_id: int,
    on_air: OnAir,
    mime: str,
    sniff: bool = False,
    on_lost: Callable[[str], None],
) -> tuple[Broadcast, Claim]:
    """The DJ's broadcast, on air unless the claim is REFUSED (another DJ is
    live).

    ``mime`` is the audio's format, or with ``sniff`` only what the DJ's
    encoder declared (``ingest.open_ingest``). Raises UnsupportedFormat, or
    TranscoderError if the server cannot take audio now.
    """
    broadcast = Broadcast(
        bus=get_bus(),
        station_id=station.pk,
        user_id=user_id,
        on_air=on_air,
        settings=broadcast_settings(station),
        on_lost=on_lost,
    )
    claim = await broadcast.start(mime, sniff=sniff)
    if claim is not Claim.REFUSED:
        broadcast.recorder = await recording_start(
            station, broadcast, claim, user_id=user_id, dj=on_air.dj
        )
    return broadcast, claim
