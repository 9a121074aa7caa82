"""HLS segments and playlists cut from a station's output."""

from __future__ import annotations

import struct
import subprocess

import pytest

from stations.streaming.bus import LocalBus
from stations.streaming.hls import (
    SEGMENT_PACKETS,
    TIMESTAMP_OWNER,
    WINDOW_SEGMENTS,
    Segmenter,
    playlist,
)
from stations.streaming.hub import now_playing_event, on_air_event
from stations.streaming.mp3 import FrameSplitter, parse_header
from stations.streaming.packets import AudioPacket, Event

START_MS = 1_700_000_000_000
FRAMES_PER_PACKET = 4


@pytest.fixture(scope="module")
def frames(tone_mp3) -> list[tuple[bytes, float]]:
    """The tone's MP3 frames and their lengths in ms."""
    payload = FrameSplitter().feed(tone_mp3).payload
    out, pos = [], 0
    while pos < len(payload):
        header = parse_header(payload, pos)
        out.append((payload[pos : pos + header.length], header.duration_ms))
        pos += header.length
    return out


def packets(frames, seqs: range) -> list[AudioPacket]:
    """Packets of four frames each (about 104 ms), numbered ``seqs``."""
    made, at_ms = [], START_MS
    for index, seq in enumerate(seqs):
        start = index * FRAMES_PER_PACKET % (len(frames) - FRAMES_PER_PACKET)
        chunk = frames[start : start + FRAMES_PER_PACKET]
        duration_ms = sum(length for _, length in chunk)
        made.append(
            AudioPacket.build(
                seq=seq,
                ingest_ms=int(at_ms),
                duration_ms=duration_ms,
                frames=b"".join(frame for frame, _ in chunk),
            )
        )
        at_ms += duration_ms
    return made


def title_at(seq: int, title: str) -> Event:
    return now_playing_event(title=title, artist="Tester", source="live", seq=seq)


def with_title(items: list[AudioPacket], seq: int, title: str) -> list:
    """``items`` with a ``now_playing`` from ``seq`` just before that packet."""
    at = next(index for index, item in enumerate(items) if item.seq == seq)
    return [*items[:at], title_at(seq, title), *items[at:]]


def test_segments_are_whole_runs_of_packets_by_seq(frames):
    """Segment k holds seq k*N to k*N+N-1; the first, read from its middle,
    and the last, still open, are not made."""
    segmenter = Segmenter(keep=10)
    sent = packets(frames, range(5, 5 * SEGMENT_PACKETS + 3))
    segmenter.feed(sent)

    assert [s.number for s in segmenter.segments] == [1, 2, 3, 4]
    second = segmenter.segments[1]
    inside = sent[2 * SEGMENT_PACKETS - 5 : 3 * SEGMENT_PACKETS - 5]
    assert second.data.endswith(b"".join(bytes(p.frames) for p in inside))
    assert second.duration_s == pytest.approx(sum(p.duration_ms for p in inside) / 1000)
    assert second.name.startswith("2-") and second.name.endswith(".mp3")
    assert segmenter.segment(second.name) is second


def test_the_tag_carries_the_first_packets_ingest_time(frames):
    """The PRIV frame holds the 90 kHz timestamp of the segment's first packet."""
    segmenter = Segmenter()
    sent = packets(frames, range(2 * SEGMENT_PACKETS + 1))
    segmenter.feed(sent)
    [segment] = segmenter.segments
    owner_at = segment.data.index(TIMESTAMP_OWNER)
    start = owner_at + len(TIMESTAMP_OWNER) + 1
    (timestamp,) = struct.unpack(">Q", segment.data[start : start + 8])
    assert segment.data.startswith(b"ID3\x04")
    assert timestamp == sent[SEGMENT_PACKETS].ingest_ms * 90 % 2**33


def test_processes_reading_from_different_points_make_the_same_segments(frames):
    """A process that started reading later makes byte-identical segments."""
    items = with_title(packets(frames, range(8 * SEGMENT_PACKETS)), 90, "Song")
    early, late = Segmenter(keep=10), Segmenter(keep=10)
    early.feed(items)
    late.feed(items[37:])

    common = {s.number for s in late.segments}
    assert common == {2, 3, 4, 5, 6}
    for segment in late.segments:
        assert early.segment(segment.name).data == segment.data


def test_a_title_goes_in_the_segment_it_starts_in(frames):
    """TIT2/TPE1 are in the tag of the segment where the title's seq falls."""
    items = with_title(packets(frames, range(4 * SEGMENT_PACKETS)), 45, "Song")
    segmenter = Segmenter()
    segmenter.feed(items)
    tagged = [s.number for s in segmenter.segments if b"TIT2\x00" in s.data[:200]]
    assert tagged == [45 // SEGMENT_PACKETS]
    segment = segmenter.segments[1]
    assert b"\x03Song" in segment.data and b"\x03Tester" in segment.data


def test_the_next_broadcast_completes_the_segment_off_air_left_open(frames):
    """The segment open when the station went off air is finished by the next
    broadcast, title and all; the segment after it is marked discontinuous."""
    first = packets(frames, range(2 * SEGMENT_PACKETS + 7))
    off = on_air_event(on_air=False, source=None)
    after = packets(frames, range(2 * SEGMENT_PACKETS + 7, 4 * SEGMENT_PACKETS + 1))
    segmenter = Segmenter()
    segmenter.feed([*first, off])
    assert [s.number for s in segmenter.segments] == [1]
    segmenter.feed(with_title(after, 2 * SEGMENT_PACKETS + 7, "Next show"))

    assert [s.number for s in segmenter.segments] == [1, 2, 3]
    spanning = segmenter.segments[1]
    joined = [*first[2 * SEGMENT_PACKETS :], *after[: SEGMENT_PACKETS - 7]]
    assert spanning.data.endswith(b"".join(bytes(p.frames) for p in joined))
    assert b"\x03Next show" in spanning.data
    assert not spanning.discontinuity
    assert segmenter.segments[2].discontinuity
    text = playlist(segmenter.segments)
    assert text.index("#EXT-X-DISCONTINUITY") > text.index(spanning.name)


def test_a_seq_that_starts_over_never_reuses_a_name(frames):
    """Segments of a numbering that started over have new names."""
    segmenter = Segmenter(keep=20)
    segmenter.feed(packets(frames, range(3 * SEGMENT_PACKETS + 1)))
    before = {s.number: s.name for s in segmenter.segments}
    restarted = packets(frames, range(1, 3 * SEGMENT_PACKETS + 1))
    segmenter.feed(restarted)
    again = [s for s in segmenter.segments if s.name not in before.values()]

    # The open segment ends where the numbering starts over.
    assert [s.number for s in again] == [3, 1, 2]
    assert again[0].duration_s == pytest.approx(restarted[0].duration_ms / 1000)
    assert again[1].name != before[1] and again[2].name != before[2]
    assert again[1].discontinuity and not again[2].discontinuity


def test_the_playlist_slides_over_the_newest_consecutive_segments(frames):
    """The playlist lists the last WINDOW_SEGMENTS, numbered consecutively."""
    segmenter = Segmenter()
    total = WINDOW_SEGMENTS + 4
    segmenter.feed(packets(frames, range(total * SEGMENT_PACKETS)))
    text = playlist(segmenter.segments)
    names = [line for line in text.splitlines() if not line.startswith("#")]

    first = total - 1 - WINDOW_SEGMENTS
    assert f"#EXT-X-MEDIA-SEQUENCE:{first}\n" in text
    assert "#EXT-X-TARGETDURATION:4\n" in text
    assert names == [s.name for s in segmenter.segments]
    assert [int(name.split("-")[0]) for name in names] == list(range(first, total - 1))
    assert segmenter.segment(f"{first - 1}-") is None


def test_a_gap_of_a_whole_segment_restarts_the_playlist_after_it(frames):
    """Media sequence numbers in a playlist never skip: it starts after a gap."""
    segmenter = Segmenter()
    segmenter.feed(packets(frames, range(3 * SEGMENT_PACKETS + 1)))
    segmenter.feed(packets(frames, range(5 * SEGMENT_PACKETS, 7 * SEGMENT_PACKETS + 1)))
    text = playlist(segmenter.segments)
    assert "#EXT-X-MEDIA-SEQUENCE:5\n" in text
    assert [s.number for s in segmenter.segments][-2:] == [5, 6]


def test_ffmpeg_plays_the_playlist_through(frames, tmp_path):
    """ffmpeg's HLS demuxer decodes the segments to their summed duration."""
    items = with_title(packets(frames, range(4 * SEGMENT_PACKETS + 1)), 30, "Song")
    segmenter = Segmenter()
    segmenter.feed(items)
    for segment in segmenter.segments:
        (tmp_path / segment.name).write_bytes(segment.data)
    ended = playlist(segmenter.segments) + "#EXT-X-ENDLIST\n"
    (tmp_path / "live.m3u8").write_text(ended)
    decoded = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(tmp_path / "live.m3u8"),
         "-f", "s16le", "-ac", "2", "-ar", "44100", "pipe:1"],
        capture_output=True, check=True,
    )  # fmt: skip
    assert decoded.stderr == b""
    total = sum(s.duration_s for s in segmenter.segments)
    assert len(decoded.stdout) / (2 * 2 * 44100) == pytest.approx(total, abs=0.03)


async def test_local_bus_keeps_recent_output_for_readers_that_ask():
    """recent_output gives what came after a position, and its position."""
    bus = LocalBus(burst_seconds=1.0)
    sent = [
        AudioPacket.build(seq=seq, ingest_ms=0, duration_ms=100, frames=b"x")
        for seq in range(3)
    ]
    for packet in sent[:2]:
        await bus.publish(1, packet)
    items, position = await bus.recent_output(1, after=None)
    assert [item.seq for item in items] == [0, 1]
    await bus.publish(1, sent[2])
    newer, newest = await bus.recent_output(1, after=position)
    assert [item.seq for item in newer] == [2]
    assert await bus.recent_output(1, after=newest) == ([], newest)
    assert await bus.recent_output(2, after=None) == ([], None)
    await bus.aclose()
