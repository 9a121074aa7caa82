import random

import pytest

from stations.streaming.icy import (
    EMPTY_METADATA_BLOCK,
    ICY_METAINT_BYTES,
    MAX_METADATA_BYTES,
    IcyInterleaver,
    encode_metadata,
    strip_metadata,
)


def test_encode_metadata_pads_to_16_byte_units():
    """The length byte counts 16-byte units of NUL-padded text."""
    assert encode_metadata("Artist - Song") == (
        b"\x02" + b"StreamTitle='Artist - Song';".ljust(32, b"\x00")
    )


def test_encode_metadata_exact_multiple_has_no_padding():
    """Text that fills whole units gets no extra unit of NULs."""
    block = encode_metadata("x" * 17)  # 13 + 17 + 2 = 32 bytes
    assert block == b"\x02StreamTitle='" + b"x" * 17 + b"';"


def test_encode_metadata_empty_title_clears_it():
    """An empty title is still announced, so players can clear theirs."""
    assert encode_metadata("") == b"\x01StreamTitle='';\x00"


def test_encode_metadata_replaces_quotes_and_nuls():
    """Quotes become U+2019 and NULs are dropped, so the block stays parseable."""
    block = encode_metadata("Guns N' Roses - Don't Cry\x00")
    assert strip_metadata(b"a" + block, metaint=1) == (
        b"a",
        ["Guns N\u2019 Roses - Don\u2019t Cry"],
    )


def test_encode_metadata_truncates_long_titles_at_a_character():
    """A title too long for 255 units is cut without splitting a character."""
    title = "\u00e9" * 3000  # 6000 UTF-8 bytes
    block = encode_metadata(title)
    assert block[0] == 255
    assert len(block) == 1 + MAX_METADATA_BYTES
    _, [found] = strip_metadata(b"a" + block, metaint=1)
    assert title.startswith(found)
    assert len(found.encode()) == MAX_METADATA_BYTES - len("StreamTitle='';") - 1


def test_interleaver_inserts_a_block_every_metaint_bytes():
    """Blocks sit exactly every metaint audio bytes, counted across calls."""
    audio = bytes(range(250))
    icy = IcyInterleaver(metaint=100)

    out = icy.feed(audio[:30], "A") + icy.feed(audio[30:200], "A")
    out += icy.feed(audio[200:], "B")

    assert out == (
        audio[:100]
        + encode_metadata("A")
        + audio[100:200]
        + EMPTY_METADATA_BLOCK
        + audio[200:]
    )
    assert icy.feed(audio[:50], "B") == audio[:50] + encode_metadata("B")


def test_interleaver_sends_no_title_until_one_is_set():
    """With no title yet, blocks are empty."""
    icy = IcyInterleaver(metaint=10)
    assert icy.feed(b"x" * 25, "") == b"x" * 10 + b"\x00" + b"x" * 10 + b"\x00xxxxx"


def test_interleaver_default_metaint():
    """The announced interval is 16000 bytes."""
    icy = IcyInterleaver()
    out = icy.feed(b"\x01" * ICY_METAINT_BYTES, "Live")
    assert out == b"\x01" * ICY_METAINT_BYTES + encode_metadata("Live")


def test_interleaver_rejects_a_zero_metaint():
    """metaint must be positive."""
    with pytest.raises(ValueError, match="positive"):
        IcyInterleaver(metaint=0)


def test_round_trip_with_random_chunks():
    """Audio survives any chunking, and each title change arrives once."""
    rng = random.Random(7)
    audio = rng.randbytes(200_000)
    titles = ["Intro", "Björk - Jóga", 'It\'s "quoted"', "Intro", "终"]
    icy = IcyInterleaver(metaint=1000)
    out = bytearray()
    pos = 0
    while pos < len(audio):
        size = rng.randint(0, 5000)
        title = titles[pos * len(titles) // len(audio)]
        out += icy.feed(audio[pos : pos + size], title)
        pos += size

    stripped, found = strip_metadata(bytes(out), metaint=1000)

    assert stripped == audio
    assert found == [title.replace("'", "\u2019") for title in titles]


def test_strip_metadata_ignores_a_truncated_block():
    """A stream cut inside a block keeps the audio before it."""
    stream = b"a" * 10 + encode_metadata("Song")
    assert strip_metadata(stream[:-3], metaint=10) == (b"a" * 10, [])
