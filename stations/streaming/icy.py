"""Icecast/SHOUTcast in-band ("ICY") stream metadata.

A client that sends ``Icy-MetaData: 1`` gets a metadata block after every
``icy-metaint`` bytes of audio. A block is one length byte (the number of
16-byte units that follow), then ``StreamTitle='...';`` padded with NULs.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

ICY_METAINT_BYTES = 16000  # audio bytes between two blocks, as announced
METADATA_UNIT_BYTES = 16
MAX_METADATA_BYTES = 255 * METADATA_UNIT_BYTES  # the length byte counts units
EMPTY_METADATA_BLOCK = b"\x00"  # "nothing changed"

_PREFIX = b"StreamTitle='"
_SUFFIX = b"';"
_MAX_TITLE_BYTES = MAX_METADATA_BYTES - len(_PREFIX) - len(_SUFFIX)
# Players read the title up to the first "';", so a quote in the title
# becomes a typographic apostrophe; a NUL would end the block early.
_TITLE_SAFE = str.maketrans({"'": "\u2019", "\x00": None})
_TITLE_RE = re.compile(rb"StreamTitle='(.*?)';", re.DOTALL)


def encode_metadata(title: str) -> bytes:
    """Return the metadata block announcing ``title``.

    Quotes become U+2019 (right single quotation mark) and the UTF-8 title
    is cut, at a character boundary, so the block fits MAX_METADATA_BYTES.
    """
    encoded = title.translate(_TITLE_SAFE).encode()
    if len(encoded) > _MAX_TITLE_BYTES:
        logger.debug("Truncating a %s-byte stream title", len(encoded))
        encoded = encoded[:_MAX_TITLE_BYTES].decode(errors="ignore").encode()
    text = _PREFIX + encoded + _SUFFIX
    units = -(-len(text) // METADATA_UNIT_BYTES)  # ceiling division
    return bytes([units]) + text.ljust(units * METADATA_UNIT_BYTES, b"\x00")


class IcyInterleaver:
    """Insert a metadata block into one listener's audio every ``metaint`` bytes.

    Like Icecast, a block carries the title only when it changed since the
    last block; otherwise it is EMPTY_METADATA_BLOCK.
    """

    def __init__(self, metaint: int = ICY_METAINT_BYTES) -> None:
        if metaint <= 0:
            raise ValueError(f"metaint must be a positive byte count, not {metaint}")
        self._metaint = metaint
        self._until_block = metaint  # audio bytes left before the next block
        self._sent_title = ""

    def feed(self, audio: bytes, title: str) -> bytes:
        """Return ``audio`` with the blocks that fall inside it, to send as is."""
        if len(audio) < self._until_block:
            self._until_block -= len(audio)
            return audio
        out = bytearray()
        pos = 0
        while len(audio) - pos >= self._until_block:
            end = pos + self._until_block
            out += audio[pos:end]
            out += self._block(title)
            pos = end
            self._until_block = self._metaint
        out += audio[pos:]
        self._until_block -= len(audio) - pos
        return bytes(out)

    def _block(self, title: str) -> bytes:
        if title == self._sent_title:
            return EMPTY_METADATA_BLOCK
        self._sent_title = title
        return encode_metadata(title)


def strip_metadata(stream: bytes, metaint: int) -> tuple[bytes, list[str]]:
    """Split an ICY stream into its audio and the StreamTitle values it carried.

    A block cut off at the end of ``stream`` is ignored.
    """
    audio = bytearray()
    titles = []
    pos = 0
    while pos < len(stream):
        audio += stream[pos : pos + metaint]
        pos += metaint
        if pos >= len(stream):
            break
        end = pos + 1 + stream[pos] * METADATA_UNIT_BYTES
        if end > len(stream):
            break
        match = _TITLE_RE.search(stream, pos + 1, end)
        if match:
            titles.append(match.group(1).decode(errors="replace"))
        pos = end
    return bytes(audio), titles
