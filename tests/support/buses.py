"""Station buses for tests of the audio path."""

from __future__ import annotations

import asyncio

from stations.streaming.bus import LocalBus
from stations.streaming.packets import AudioPacket, Event


class RecordingBus(LocalBus):
    """The in-process bus, keeping everything published on it."""

    def __init__(self) -> None:
        super().__init__(burst_seconds=2.5)
        self.published: list[AudioPacket | Event] = []
        self.arrived = asyncio.Event()

    async def publish(self, station_id, item, *, lease=None) -> bool:
        sent = await super().publish(station_id, item, lease=lease)
        if sent:
            self.published.append(item)
            self.arrived.set()
        return sent

    def packets(self) -> list[AudioPacket]:
        return [item for item in self.published if isinstance(item, AudioPacket)]

    def events(self, kind: str) -> list[Event]:
        return [
            item
            for item in self.published
            if isinstance(item, Event) and item.type == kind
        ]
