"""The burst buffer: the newest audio for listeners who join."""

from __future__ import annotations

from stations.streaming.burst import BurstBuffer
from stations.streaming.packets import AudioPacket


def packet(seq: int, duration_ms: float = 100) -> AudioPacket:
    return AudioPacket.build(
        seq=seq, ingest_ms=0, duration_ms=duration_ms, frames=b"mp3"
    )


def held_ms(burst: BurstBuffer) -> float:
    return sum(p.duration_ms for p in burst.snapshot())


def test_keeps_at_least_the_seconds_asked_for_and_trims_the_rest():
    """After 5 s of 100 ms packets a 1 s burst holds the newest 1 s exactly."""
    burst = BurstBuffer(1.0)
    for seq in range(50):
        burst.append(packet(seq))
    assert [p.seq for p in burst.snapshot()] == list(range(40, 50))
    assert held_ms(burst) == 1000


def test_keeps_a_packet_that_straddles_the_limit():
    """A packet is trimmed only if the rest still lasts the whole burst."""
    burst = BurstBuffer(1.0)
    burst.append(packet(1, 600))
    burst.append(packet(2, 600))
    assert [p.seq for p in burst.snapshot()] == [1, 2]
    burst.append(packet(3, 600))
    assert [p.seq for p in burst.snapshot()] == [2, 3]
    assert held_ms(burst) == 1200


def test_a_long_packet_alone_is_kept():
    """A packet longer than the burst stays: the buffer is never empty after append."""
    burst = BurstBuffer(0.5)
    burst.append(packet(1, 100))
    burst.append(packet(2, 2000))
    assert [p.seq for p in burst.snapshot()] == [2]


def test_clear_empties_it():
    """Cleared, the burst has no packets, and keeps a full burst again after."""
    burst = BurstBuffer(1.0)
    burst.append(packet(1))
    burst.clear()
    assert burst.snapshot() == []
    for seq in range(2, 14):
        burst.append(packet(seq))
    assert held_ms(burst) == 1000


def test_a_snapshot_is_a_copy():
    """Packets appended after a snapshot do not show up in it."""
    burst = BurstBuffer(1.0)
    burst.append(packet(1))
    snapshot = burst.snapshot()
    burst.append(packet(2))
    assert [p.seq for p in snapshot] == [1]
