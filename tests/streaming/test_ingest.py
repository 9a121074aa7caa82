"""A live DJ's bytes in, whole MP3 frames in the station's format out.

Only ``open_ingest`` and the ``Ingest`` interface are used here: which
class does the work behind them is the module's business.
"""

from __future__ import annotations

import random

import pytest

from stations.streaming.encoder import PACKET_MS
from stations.streaming.ingest import (
    MAX_SNIFF_BYTES,
    MP3_MIME,
    UnsupportedFormat,
    open_ingest,
    supported_formats,
)
from stations.streaming.mp3 import parse_header
from stations.streaming.packets import MIN_PACKET_MS, now_ms
from stations.streaming.transcoder import TranscoderError
from tests.support.audio import frames_duration_ms, make_tone
from tests.support.processes import child_processes

STATION_KBPS = 128
CHUNK_BYTES = 4096
# A transcoded stream may be this much longer or shorter than its input:
# the encoder pads its start and end by a frame or two.
TRANSCODING_SLACK_MS = 150


class Emitted:
    """The ``emit`` callback of an ingest, keeping what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, float, int]] = []

    async def __call__(self, frames: bytes, duration_ms: float, ingest_ms: int):
        self.calls.append((frames, duration_ms, ingest_ms))

    @property
    def frames(self) -> bytes:
        return b"".join(frames for frames, _, _ in self.calls)

    @property
    def duration_ms(self) -> float:
        return sum(duration for _, duration, _ in self.calls)


async def ingest_all(mime: str, data: bytes, *, sniff: bool = False) -> Emitted:
    """Feed ``data`` in chunks as a DJ's browser would, then close."""
    emitted = Emitted()
    ingest = await open_ingest(
        mime, bitrate_kbps=STATION_KBPS, emit=emitted, sniff=sniff
    )
    try:
        for start in range(0, len(data), CHUNK_BYTES):
            await ingest.feed(data[start : start + CHUNK_BYTES])
    finally:
        await ingest.aclose()
    return emitted


def assert_whole_frames_in_station_format(emitted: Emitted) -> None:
    for frames, duration_ms, _ in emitted.calls:
        assert frames_duration_ms(frames) == pytest.approx(duration_ms)
        header = parse_header(frames)
        assert (header.bitrate_kbps, header.sample_rate, header.channels) == (
            STATION_KBPS,
            44100,
            2,
        )


@pytest.fixture(scope="module")
def tone_64k(tmp_path_factory) -> bytes:
    """Two seconds of MP3 at 64 kbit/s: not the station's bitrate."""
    path = tmp_path_factory.mktemp("audio") / "tone-64k.mp3"
    return make_tone(path, seconds=2, bitrate="64k").read_bytes()


async def test_mp3_in_the_station_format_is_reframed_without_ffmpeg(tone_mp3):
    """Station-format MP3 comes out as it went in, minus its tags, in whole frames."""
    before = now_ms()
    emitted = Emitted()
    ingest = await open_ingest(MP3_MIME, bitrate_kbps=STATION_KBPS, emit=emitted)
    for start in range(0, len(tone_mp3), CHUNK_BYTES):
        await ingest.feed(tone_mp3[start : start + CHUNK_BYTES])
        assert child_processes("ffmpeg") == []
    await ingest.aclose()

    assert tone_mp3.startswith(b"ID3")
    assert emitted.calls, "nothing was emitted"
    assert_whole_frames_in_station_format(emitted)
    out = emitted.frames
    assert b"ID3" not in out[:10]
    assert tone_mp3.endswith(out)  # the same bytes, not re-encoded
    assert emitted.duration_ms == pytest.approx(6000, abs=60)
    assert all(before <= ingest_ms <= now_ms() for _, _, ingest_ms in emitted.calls)


@pytest.mark.parametrize("frames_per_feed", [1, 2, 4, 12])
async def test_passed_through_mp3_goes_out_in_packets_of_75_ms_or_more(
    tone_mp3, frames_per_feed
):
    """A frame per write (ffmpeg's icecast://) is gathered into packets;
    larger chunks go out as they come; the last frames go out at close."""
    frames = split_frames(tone_mp3[tone_mp3.index(b"\xff\xfb") :])
    emitted = Emitted()
    ingest = await open_ingest(MP3_MIME, bitrate_kbps=STATION_KBPS, emit=emitted)
    for start in range(0, len(frames), frames_per_feed):
        await ingest.feed(b"".join(frames[start : start + frames_per_feed]))
    await ingest.aclose()

    durations = [duration for _, duration, _ in emitted.calls]
    assert all(duration >= MIN_PACKET_MS for duration in durations[:-1])
    assert tone_mp3.endswith(emitted.frames)
    assert emitted.duration_ms == pytest.approx(6000, abs=60)
    if frames_per_feed * 26 >= MIN_PACKET_MS:
        assert len(emitted.calls) == pytest.approx(len(frames) / frames_per_feed, abs=1)


def split_frames(mp3: bytes) -> list[bytes]:
    frames, offset = [], 0
    while offset < len(mp3):
        length = parse_header(mp3, offset).length
        frames.append(mp3[offset : offset + length])
        offset += length
    return frames


async def test_mp3_at_another_bitrate_is_transcoded(tone_64k):
    """64 kbit/s MP3 comes out at the station's bitrate, in packets of PACKET_MS."""
    emitted = await ingest_all(MP3_MIME, tone_64k)
    assert emitted.calls, "nothing was emitted"
    assert_whole_frames_in_station_format(emitted)
    assert all(duration >= PACKET_MS for _, duration, _ in emitted.calls[:-1])
    assert child_processes("ffmpeg") == []


async def test_mp3_at_another_sample_rate_is_transcoded(tmp_path):
    """128 kbit/s mono at 22.05 kHz is re-encoded: the first frame decides."""
    path = make_tone(tmp_path / "mono.mp3", seconds=2, sample_rate=22050, channels=1)
    emitted = await ingest_all(MP3_MIME, path.read_bytes())
    assert_whole_frames_in_station_format(emitted)
    assert emitted.duration_ms == pytest.approx(2000, abs=TRANSCODING_SLACK_MS)


async def test_mp3_at_another_bitrate_keeps_all_its_audio(tone_64k):
    """Transcoded MP3 lasts as long as the DJ's MP3 did."""
    emitted = await ingest_all(MP3_MIME, tone_64k)
    assert emitted.duration_ms == pytest.approx(2000, abs=TRANSCODING_SLACK_MS)


async def test_webm_opus_is_transcoded(tone_webm):
    """MediaRecorder's WebM/Opus becomes MP3 in the station's format."""
    emitted = await ingest_all("audio/webm;codecs=opus", tone_webm)
    assert_whole_frames_in_station_format(emitted)
    assert emitted.duration_ms == pytest.approx(6000, abs=TRANSCODING_SLACK_MS)
    assert child_processes("ffmpeg") == []


@pytest.mark.parametrize("mime", ["audio/aac", "audio/aacp", "audio/x-aac"])
async def test_adts_aac_is_transcoded(tmp_path, mime):
    """AAC in ADTS frames, as Icecast sources send it, becomes the station's MP3."""
    aac = make_tone(tmp_path / "tone.aac", seconds=2, codec="aac").read_bytes()
    emitted = await ingest_all(mime, aac)
    assert_whole_frames_in_station_format(emitted)
    assert emitted.duration_ms == pytest.approx(2000, abs=TRANSCODING_SLACK_MS)
    assert child_processes("ffmpeg") == []


@pytest.mark.parametrize(
    "mime", ["audio/webm; codecs=opus", "Audio/WebM;Codecs=Opus", "AUDIO/WEBM"]
)
async def test_webm_mime_types_are_normalised(tone_webm, mime):
    """Case and spaces around ';' do not matter, as browsers vary."""
    emitted = await ingest_all(mime, tone_webm[: 16 * 1024])
    assert emitted.calls, "nothing was emitted"
    assert_whole_frames_in_station_format(emitted)


async def test_mp3_mime_type_is_normalised(tone_mp3):
    """'Audio/MPEG' is re-framed like 'audio/mpeg', with no ffmpeg."""
    emitted = await ingest_all("Audio/MPEG", tone_mp3)
    assert tone_mp3.endswith(emitted.frames)
    assert emitted.duration_ms == pytest.approx(6000, abs=60)


@pytest.mark.parametrize("mime", ["video/mp4", "audio/flac", "text/plain", ""])
async def test_an_unsupported_format_is_refused_with_the_choices(mime):
    """An unknown MIME type raises UnsupportedFormat naming what is taken."""
    with pytest.raises(UnsupportedFormat) as refused:
        await open_ingest(mime, bitrate_kbps=STATION_KBPS, emit=Emitted())
    for choice in supported_formats():
        assert choice in str(refused.value)
    assert child_processes("ffmpeg") == []


async def test_closing_without_flush_stops_ffmpeg_and_emits_no_more(tone_webm):
    """aclose(flush=False) drops what ffmpeg holds and leaves no process."""
    emitted = Emitted()
    ingest = await open_ingest("audio/webm", bitrate_kbps=STATION_KBPS, emit=emitted)
    await ingest.feed(tone_webm)
    await ingest.aclose(flush=False)
    emitted_at_close = len(emitted.calls)
    assert child_processes("ffmpeg") == []
    assert emitted.duration_ms < 6000
    assert len(emitted.calls) == emitted_at_close


OPUS = {"codec": "libopus", "bitrate": "96k", "sample_rate": 48000}
# A second of each format, as ffmpeg writes it, and a wrong declared type.
MISLABELLED = {
    "tone.aac": ({"codec": "aac"}, "audio/mpeg"),
    "tone.ogg": ({"codec": "libvorbis"}, "audio/mpeg"),
    "tone.opus": ({**OPUS, "container": "ogg"}, ""),
    "tone.webm": ({**OPUS, "container": "webm"}, "application/octet-stream"),
    "tone.wav": ({"codec": "pcm_s16le"}, "audio/webm"),
    "tone-64k.mp3": ({"bitrate": "64k"}, "audio/aac"),
}


@pytest.mark.parametrize("name", MISLABELLED)
async def test_a_sniffed_stream_is_read_as_its_bytes_say(tmp_path, name):
    """Whatever the declared type, the bytes decide: each format comes out
    as the station's MP3, all of it, and no ffmpeg is left."""
    options, declared = MISLABELLED[name]
    audio = make_tone(tmp_path / name, seconds=2, **options).read_bytes()
    emitted = await ingest_all(declared, audio, sniff=True)
    assert_whole_frames_in_station_format(emitted)
    assert emitted.duration_ms == pytest.approx(2000, abs=TRANSCODING_SLACK_MS)
    assert child_processes("ffmpeg") == []


async def test_sniffed_mp3_in_the_station_format_is_passed_through(tone_mp3):
    """MP3 declared as octet-stream is still only re-framed, with no ffmpeg."""
    emitted = Emitted()
    ingest = await open_ingest(
        "application/octet-stream", bitrate_kbps=STATION_KBPS, emit=emitted, sniff=True
    )
    for start in range(0, len(tone_mp3), CHUNK_BYTES):
        await ingest.feed(tone_mp3[start : start + CHUNK_BYTES])
        assert child_processes("ffmpeg") == []
    await ingest.aclose()
    assert tone_mp3.endswith(emitted.frames)


@pytest.mark.parametrize("declared", ["", "video/mp4", "audio/ogg"])
async def test_a_sniffing_ingest_starts_nothing_until_bytes_come(declared):
    """open_ingest(sniff=True) neither refuses nor starts ffmpeg; closed
    before any byte, it leaves nothing behind and emits nothing."""
    emitted = Emitted()
    ingest = await open_ingest(
        declared, bitrate_kbps=STATION_KBPS, emit=emitted, sniff=True
    )
    assert child_processes("ffmpeg") == []
    await ingest.aclose()
    assert child_processes("ffmpeg") == []
    assert emitted.calls == []


async def test_bytes_undecided_at_close_are_dropped(tone_mp3):
    """Closed before its bytes told the format, a sniffing ingest emits
    nothing and has started nothing."""
    frame = tone_mp3.index(b"\xff\xfb")
    emitted = Emitted()
    ingest = await open_ingest(
        "audio/mpeg", bitrate_kbps=STATION_KBPS, emit=emitted, sniff=True
    )
    await ingest.feed(tone_mp3[frame : frame + 200])  # part of one frame
    await ingest.aclose()
    assert emitted.calls == []
    assert child_processes("ffmpeg") == []


def noise() -> bytes:
    """Bytes in no audio format, not even by chance."""
    return random.Random(5).randbytes(MAX_SNIFF_BYTES).replace(b"\xff", b"\x00")


@pytest.mark.parametrize("declared", ["", "application/octet-stream", "video/mp4"])
async def test_noise_of_no_supported_declared_type_is_refused(declared):
    """Bytes that tell nothing, declared as nothing taken: feed() raises
    UnsupportedFormat naming the choices, and no ffmpeg was started."""
    ingest = await open_ingest(
        declared, bitrate_kbps=STATION_KBPS, emit=Emitted(), sniff=True
    )
    data = noise()
    await ingest.feed(data[: MAX_SNIFF_BYTES // 2])
    with pytest.raises(UnsupportedFormat) as refused:
        await ingest.feed(data[MAX_SNIFF_BYTES // 2 :])
    assert f"first {MAX_SNIFF_BYTES} bytes" in str(refused.value)
    for choice in supported_formats():
        assert choice in str(refused.value)
    assert child_processes("ffmpeg") == []
    await ingest.aclose()


async def test_noise_falls_back_to_a_supported_declared_type():
    """Bytes that tell nothing are read as the declared type; when ffmpeg
    fails on them, the error surfaces and closing leaves no process."""
    ingest = await open_ingest(
        "audio/ogg", bitrate_kbps=STATION_KBPS, emit=Emitted(), sniff=True
    )
    with pytest.raises(TranscoderError):
        for _ in range(100):
            await ingest.feed(noise())
    await ingest.aclose()
    assert child_processes("ffmpeg") == []
