"""Audio packets and events as they go over the wire."""

from __future__ import annotations

import json

from stations.streaming.packets import (
    HEADER_BYTES,
    SEQ_MODULUS,
    AudioPacket,
    Event,
    parse_header,
)


def test_the_header_round_trips_seq_and_ingest_time():
    """parse_header gives back the seq and ingest time a packet was built with."""
    packet = AudioPacket.build(
        seq=1234, ingest_ms=1_700_000_000_123, duration_ms=26.1, frames=b"\xff\xfbxyz"
    )
    assert HEADER_BYTES == 12
    assert parse_header(packet.wire) == (1234, 1_700_000_000_123)
    assert bytes(packet.frames) == b"\xff\xfbxyz"
    assert len(packet.wire) == HEADER_BYTES + 5


def test_seq_wraps_on_the_wire_but_not_in_the_packet():
    """A seq past 2**32 is sent modulo 2**32; the packet keeps the full number."""
    packet = AudioPacket.build(
        seq=SEQ_MODULUS + 5, ingest_ms=0, duration_ms=0, frames=b""
    )
    assert packet.seq == SEQ_MODULUS + 5
    assert parse_header(packet.wire) == (5, 0)


def test_an_event_is_encoded_once_as_compact_json():
    """An event's text is its data as JSON without spaces; type is read from it."""
    event = Event.build({"type": "chat", "text": "hi there", "id": 3})
    assert event.text == '{"type":"chat","text":"hi there","id":3}'
    assert json.loads(event.text) == event.data
    assert event.type == "chat"
