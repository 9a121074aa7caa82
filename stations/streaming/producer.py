"""The one producer of a station's output at a time, whoever it is.

A live DJ's broadcast and the AutoDJ's playout both produce through a
:class:`Producer`: it holds the station's lease (claimed, renewed every third
of its lifetime, released), numbers the audio packets on from the station's
last one, publishes only while the lease holds, and says when the station
goes on and off air. What a producer publishes after losing the lease is
refused by the bus, so two producers never interleave.

While the bus is unavailable (Redis away) a producer drops what it
publishes and keeps its lease as far as it knows; once the bus is back, a
lease the bus forgot (Redis restarted empty) is claimed again under the
usual rules, and the station is said to be on air again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from .bus import LEASE_TTL_S, BusUnavailable, Claim, Lease, StationBus
from .hub import on_air_event
from .packets import AudioPacket, Event

logger = logging.getLogger(__name__)


class Producer:
    """Publishes a station's output under ``lease``."""

    def __init__(self, bus: StationBus, lease: Lease) -> None:
        self._bus = bus
        self.lease = lease
        # The seq of the next audio packet.
        self.next_seq = 0
        # Set once the lease is gone: another producer took the station, or
        # it expired.
        self.lost = False
        # The ``broadcast`` of the station's ``on_air``, said again when the
        # lease is claimed back.
        self.broadcast: dict | None = None

    @property
    def station_id(self) -> int:
        return self.lease.station_id

    async def claim(self) -> Claim:
        """Ask for the station; numbering goes on from its last packet."""
        claim = await self._bus.claim(self.lease, ttl_s=LEASE_TTL_S)
        if claim is not Claim.REFUSED:
            await self.number_from_station()
        return claim

    async def number_from_station(self) -> None:
        """Number the next packet after the station's last one, anywhere."""
        self.next_seq = ((await self._bus.last_seq(self.station_id)) or 0) + 1

    async def go_on_air(self, broadcast: dict | None = None) -> bool:
        """Tell everyone the station is on air, with the lease's kind as source."""
        self.broadcast = broadcast
        return await self.publish(self._on_air())

    def _on_air(self) -> Event:
        return on_air_event(
            on_air=True, source=self.lease.kind, broadcast=self.broadcast
        )

    async def publish_audio(
        self, frames: bytes, duration_ms: float, ingest_ms: int
    ) -> bool:
        """Publish whole MP3 frames as the next audio packet."""
        packet = AudioPacket.build(
            seq=self.next_seq,
            ingest_ms=ingest_ms,
            duration_ms=duration_ms,
            frames=frames,
        )
        self.next_seq += 1
        return await self.publish(packet)

    async def publish(self, item: AudioPacket | Event) -> bool:
        """Publish while the lease holds; False (and ``lost``) once it does not.

        False without ``lost`` while the bus is unavailable: ``item`` is
        dropped.
        """
        if self.lost:
            return False
        try:
            if await self._bus.publish(self.station_id, item, lease=self.lease):
                return True
            if await self._claim_back():
                return await self._bus.publish(self.station_id, item, lease=self.lease)
        except BusUnavailable:
            return False
        self._lose()
        return False

    async def _claim_back(self) -> bool:
        """Claim the lease again, as a new producer of its kind would; False
        if the station is another's.

        Only a Redis that restarted empty forgets a lease that is renewed in
        time (an AutoDJ may have claimed the free station first, which a
        DJ takes over as usual); the station's state went with it, so it is
        said again.
        """
        if await self._bus.claim(self.lease, ttl_s=LEASE_TTL_S) is Claim.REFUSED:
            return False
        logger.warning(
            "The %s producer of station %s claimed its lease back",
            self.lease.kind,
            self.station_id,
        )
        self.next_seq = max(
            self.next_seq, ((await self._bus.last_seq(self.station_id)) or 0) + 1
        )
        await self._bus.publish(self.station_id, self._on_air(), lease=self.lease)
        return True

    async def hold(self, *, until: Callable[[], bool] = lambda: False) -> bool:
        """Renew the lease every third of its lifetime.

        Returns True once ``until()`` is true at a renewal, or False once the
        lease is lost. Run it as a task and cancel it to stop renewing.
        """
        while True:
            await asyncio.sleep(LEASE_TTL_S / 3)
            if not await self.renew():
                return False
            if until():
                return True

    async def renew(self, *, claim_back: bool = True) -> bool:
        """Keep the lease; False once it is lost.

        A renewal the bus cannot answer (Redis away) counts as kept: the
        next one, or the next publish, finds out. A lease the bus no longer
        holds is claimed back unless ``claim_back`` is False.
        """
        if self.lost:
            return False
        try:
            held = await self._bus.renew(self.lease, ttl_s=LEASE_TTL_S)
            if not held and not (claim_back and await self._claim_back()):
                self._lose()
        except BusUnavailable:
            pass
        return not self.lost

    def _lose(self) -> None:
        self.lost = True
        logger.info(
            "The %s producer of station %s lost the station",
            self.lease.kind,
            self.station_id,
        )

    async def suspend(self, *, grace_s: float) -> None:
        """Keep the station for ``grace_s`` for the same user to pick up.

        Without the bus the lease is not suspended and expires as usual.
        """
        try:
            await self._bus.suspend(self.lease, grace_s=grace_s)
        except BusUnavailable:
            logger.info("Station %s: the lease could not be suspended", self.station_id)

    async def end(self, *, announce: bool = True) -> None:
        """Give the station up, saying it is off air if ``announce``.

        Does nothing once the lease is lost: the station is someone else's.
        """
        if self.lost:
            return
        if announce:
            await self.publish(on_air_event(on_air=False, source=None))
        try:
            await self._bus.release(self.lease)
        except BusUnavailable:
            logger.info("Station %s: the lease will expire by itself", self.station_id)
        self.lost = True
