"""Fakes for the audio path: a client transport and a bus that record what
they get."""

from __future__ import annotations

import asyncio
import json

from stations.streaming.audience import Listener
from stations.streaming.bus import LocalBus
from stations.streaming.packets import AudioBatch, AudioPacket, Event
from stations.streaming.transport import Transport

# How long a test waits for something another task or process sends.
ARRIVAL_TIMEOUT_S = 5.0


class RecordingTransport(Transport):
    """Keeps what is written, in order; ``writable`` is set by the test."""

    def __init__(self) -> None:
        self.is_writable = True
        self.written: list[bytes | str] = []
        # The seqs of each audio write, a tuple per write.
        self.audio_writes: list[tuple[int, ...]] = []
        # The text message that led each audio write, if any.
        self.audio_leads: list[str | None] = []
        self._arrivals: asyncio.Queue[bytes | str] = asyncio.Queue()

    @property
    def writable(self) -> bool:
        return self.is_writable

    def send_binary(self, data: bytes) -> None:
        self.written.append(data)
        self._arrivals.put_nowait(data)

    def send_text(self, text: str) -> None:
        self.written.append(text)
        self._arrivals.put_nowait(text)

    def send_audio(self, batch: AudioBatch, lead: str | None = None) -> None:
        self.audio_writes.append(tuple(packet.seq for packet in batch.packets))
        self.audio_leads.append(lead)
        super().send_audio(batch, lead)

    def events(self) -> list[dict]:
        """The text messages written so far, decoded."""
        return [json.loads(item) for item in self.written if isinstance(item, str)]

    def binaries(self) -> list[bytes]:
        return [item for item in self.written if isinstance(item, bytes)]

    async def next_message(self) -> bytes | str:
        """The next message written (or one written already and not taken)."""
        return await asyncio.wait_for(self._arrivals.get(), ARRIVAL_TIMEOUT_S)

    async def next_event(self, kind: str) -> dict:
        """The next text message of type ``kind``, skipping anything else."""
        while True:
            message = await self.next_message()
            if isinstance(message, str) and json.loads(message)["type"] == kind:
                return json.loads(message)


def recorded_listener(
    cls: type[Listener] = Listener, *, username: str | None = None
) -> tuple[Listener, RecordingTransport]:
    """A listener of ``cls`` on a fresh recording transport."""
    transport = RecordingTransport()
    listener = cls(
        transport, max_stall_s=10.0, on_too_slow=lambda: None, username=username
    )
    return listener, transport


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
