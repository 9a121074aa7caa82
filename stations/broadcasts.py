"""A DJ going live on a station, whichever way their audio comes in: the
console's broadcast socket or an Icecast or Shoutcast source."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from .models import Station
from .programme.recording import recording_start
from .programme.slot_guard import OnWarning, SlotGuard
from .programme.slot_rules import acheck_air_time
from .runtime import broadcast_settings, get_bus
from .streaming.broadcast import Broadcast, OnAir
from .streaming.bus import Claim

# ``on_lost``'s reason when a DJ's slot is over (programme.slot_guard).
SLOT_ENDED = "slot_ended"


async def check_slot(station: Station, *, user_id: int) -> bool:
    """Raise OutsideSlot unless user ``user_id`` may go live on ``station``
    now (``programme.slot_rules``); True if their slots limit their air time."""
    return await acheck_air_time(station.pk, user_id, timezone.now())


async def go_live(
    station: Station,
    *,
    user_id: int,
    on_air: OnAir,
    mime: str,
    sniff: bool = False,
    on_lost: Callable[[str], None],
    on_slot_ending: OnWarning | None = None,
) -> tuple[Broadcast, Claim]:
    """The DJ's broadcast, on air unless the claim is REFUSED (another DJ is
    live).

    ``mime`` is the audio's format, or with ``sniff`` only what the DJ's
    encoder declared (``ingest.open_ingest``). Raises OutsideSlot before
    claiming anything if the station keeps DJs to their slots and this is
    not theirs; UnsupportedFormat; or TranscoderError if the server cannot
    take audio now. A DJ kept to their slots is warned with
    ``on_slot_ending`` (if given) before it ends, and taken off air after
    the overrun (``on_lost(SLOT_ENDED)``).
    """
    limited = await check_slot(station, user_id=user_id)
    broadcast = Broadcast(
        bus=get_bus(),
        station_id=station.pk,
        user_id=user_id,
        on_air=on_air,
        settings=broadcast_settings(station),
        on_lost=on_lost,
    )
    claim = await broadcast.start(mime, sniff=sniff)
    if claim is Claim.REFUSED:
        return broadcast, claim
    broadcast.recorder = await recording_start(
        station, broadcast, claim, user_id=user_id, dj=on_air.dj
    )
    if limited:
        _keep_to_slot(broadcast, user_id, on_air.dj, on_lost, on_slot_ending)
    return broadcast, claim


def _keep_to_slot(
    broadcast: Broadcast,
    user_id: int,
    dj: str,
    on_lost: Callable[[str], None],
    on_slot_ending: OnWarning | None,
) -> None:
    async def take_off_air() -> None:
        # The DJ hears why first: audio that arrives while the broadcast
        # stops is refused as sent before ``start``.
        on_lost(SLOT_ENDED)
        await broadcast.stop()

    guard = SlotGuard(
        station_id=broadcast.station_id,
        user_id=user_id,
        dj=dj,
        on_warning=on_slot_ending,
        take_off_air=take_off_air,
    )
    broadcast.when_ended(guard.cancel)
    guard.start()
