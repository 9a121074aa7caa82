"""A listener that stops taking writes: audio is skipped, events wait."""

from __future__ import annotations

import pytest

from stations.streaming.audience import (
    MAX_HELD_EVENTS,
    HttpStreamListener,
    Listener,
)
from stations.streaming.hub import now_playing_event
from stations.streaming.icy import IcyInterleaver, encode_metadata
from stations.streaming.packets import AudioBatch, AudioPacket, Event
from tests.support.streaming import RecordingTransport


def packet(seq: int) -> AudioPacket:
    return AudioPacket.build(seq=seq, ingest_ms=0, duration_ms=100, frames=b"mp3")


def audio(seq: int) -> AudioBatch:
    return AudioBatch((packet(seq),))


def chat(number: int) -> Event:
    return Event.build({"type": "chat", "id": number, "text": f"message {number}"})


@pytest.fixture
def given_up() -> list[bool]:
    return []


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def listener(transport, given_up) -> Listener:
    return Listener(
        transport, max_stall_s=10.0, on_too_slow=lambda: given_up.append(True)
    )


def test_events_wait_for_a_stalled_transport_and_keep_their_order(listener, transport):
    """Events come while the transport is full; they are written, in order
    and before the next audio, once it takes writes again."""
    transport.is_writable = False
    listener.deliver_event(chat(1))
    listener.deliver_audio(audio(1))
    listener.deliver_event(chat(2))
    assert transport.written == []

    transport.is_writable = True
    listener.deliver_audio(audio(2))
    assert transport.written == [chat(1).text, chat(2).text, packet(2).wire]
    assert listener.skipped == 1


def test_a_new_event_flushes_held_ones_first(listener, transport):
    """A console gets no audio: its next event writes the held ones first."""
    transport.is_writable = False
    listener.deliver_event(chat(1))
    transport.is_writable = True
    listener.deliver_event(chat(2))
    assert transport.written == [chat(1).text, chat(2).text]


def test_too_many_held_events_give_the_listener_up(listener, transport, given_up):
    """Past MAX_HELD_EVENTS the listener is given up on, once."""
    transport.is_writable = False
    for number in range(MAX_HELD_EVENTS):
        listener.deliver_event(chat(number))
    assert given_up == []
    for number in range(3):
        listener.deliver_event(chat(MAX_HELD_EVENTS + number))
    assert given_up == [True]
    assert transport.written == []


def test_a_writable_listener_gets_events_at_once(listener, transport):
    listener.deliver_event(chat(1))
    listener.deliver_audio(audio(1))
    assert transport.written == [chat(1).text, packet(1).wire]


def test_a_stream_listener_titles_the_packet_its_now_playing_names():
    """In a batch, the ICY title changes at the packet the title names."""
    transport = RecordingTransport()
    listener = HttpStreamListener(
        transport,
        max_stall_s=10.0,
        on_too_slow=lambda: None,
        icy=IcyInterleaver(metaint=3),
        title="Old",
    )
    listener.deliver_event(
        now_playing_event(title="New", artist="", source="live", seq=2)
    )
    listener.deliver_audio(AudioBatch((packet(1), packet(2))))
    assert transport.binaries() == [
        b"mp3" + encode_metadata("Old") + b"mp3" + encode_metadata("New")
    ]


def test_a_stream_listener_without_icy_gets_the_frames_alone():
    transport = RecordingTransport()
    listener = HttpStreamListener(
        transport, max_stall_s=10.0, on_too_slow=lambda: None, icy=None, title=""
    )
    listener.deliver_audio(AudioBatch((packet(1), packet(2))))
    assert transport.binaries() == [b"mp3mp3"]
