"""What a live stream's first bytes say its format is, whatever it claims.

Icecast sources often declare the wrong Content-Type: ffmpeg sends
``audio/mpeg`` for anything unless told otherwise, and so does OBS.
"""

from __future__ import annotations

from .mp3 import parse_header

OGG_MIME = "audio/ogg"
WEBM_MIME = "audio/webm"
MP3_MIME = "audio/mpeg"
AAC_MIME = "audio/aac"
WAV_MIME = "audio/wav"

# Container signatures at the start of a stream.
_MAGIC = (
    (b"OggS", OGG_MIME),  # Vorbis, Opus or FLAC in Ogg
    (b"\x1a\x45\xdf\xa3", WEBM_MIME),  # EBML: WebM or Matroska
    (b"ID3", MP3_MIME),  # an ID3v2 tag, then MP3 frames
)
ADTS_HEADER_BYTES = 7


def sniff_mime(head: bytes) -> str | None:
    """The MIME type the stream starting with ``head`` is in, or None.

    None means the bytes do not tell (yet): more of them may. Raw MP3 and
    ADTS AAC count only once a frame is followed by the next one's
    header, so that a stray sync word is not taken for audio.
    """
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV_MIME
    sync = head.find(b"\xff")
    while sync >= 0:
        if _mp3_frames_at(head, sync):
            return MP3_MIME
        if _adts_frames_at(head, sync):
            return AAC_MIME
        sync = head.find(b"\xff", sync + 1)
    return None


def _mp3_frames_at(head: bytes, offset: int) -> bool:
    """Whether an MPEG audio frame and the next one's header are at ``offset``."""
    first = parse_header(head, offset)
    if first is None:
        return False
    second = parse_header(head, offset + first.length)
    return second is not None and second.sample_rate == first.sample_rate


def _adts_frame_length(head: bytes, offset: int) -> int | None:
    """The length of the ADTS frame whose header is at ``offset``, if one is."""
    header = head[offset : offset + ADTS_HEADER_BYTES]
    # 12 sync bits, then layer bits 00 (MPEG audio has 01 to 11 there).
    if len(header) < ADTS_HEADER_BYTES or header[1] & 0xF6 != 0xF0:
        return None
    if (header[2] >> 2) & 0x0F > 12:  # a reserved sampling rate index
        return None
    length = (header[3] & 0x03) << 11 | header[4] << 3 | header[5] >> 5
    return length if length > ADTS_HEADER_BYTES else None


def _adts_frames_at(head: bytes, offset: int) -> bool:
    """Whether an ADTS frame and the next one's header are at ``offset``."""
    length = _adts_frame_length(head, offset)
    return length is not None and _adts_frame_length(head, offset + length) is not None
