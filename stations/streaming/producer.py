"""The one producer of a station's output at a time, whoever it is.

A live DJ's broadcast and the AutoDJ's playout both produce through a
:class:`Producer`: it holds the station's lease (claimed, renewed every third
of its lifetime, released), numbers the audio packets on from the station's
last one, publishes only while the lease holds, and says when the station
goes on and off air. What a producer publishes after losing the lease is
refused by the bus, so two producers never interleave.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from .bus import LEASE_TTL_S, Claim, Lease, StationBus
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
        return await self.publish(
            on_air_event(on_air=True, source=self.lease.kind, broadcast=broadcast)
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
        """Publish while the lease holds; False (and ``lost``) once it does not."""
        if self.lost:
            return False
        sent = await self._bus.publish(self.station_id, item, lease=self.lease)
        if not sent:
            self._lose()
        return sent

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

    async def renew(self) -> bool:
        if not self.lost and not await self._bus.renew(self.lease, ttl_s=LEASE_TTL_S):
            self._lose()
        return not self.lost

    def _lose(self) -> None:
        self.lost = True
        logger.info(
            "The %s producer of station %s lost the station",
            self.lease.kind,
            self.station_id,
        )

    async def suspend(self, *, grace_s: float) -> None:
        """Keep the station for ``grace_s`` for the same user to pick up."""
        await self._bus.suspend(self.lease, grace_s=grace_s)

    async def end(self, *, announce: bool = True) -> None:
        """Give the station up, saying it is off air if ``announce``.

        Does nothing once the lease is lost: the station is someone else's.
        """
        if self.lost:
            return
        if announce:
            await self.publish(on_air_event(on_air=False, source=None))
        await self._bus.release(self.lease)
        self.lost = True
