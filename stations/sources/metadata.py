"""Title updates from encoders: Icecast's ``/admin/metadata`` and
Shoutcast's ``/admin.cgi`` with ``mode=updinfo``.

The query's values are percent-encoded bytes in whatever character set the
encoder uses: ``charset`` names it when given, else UTF-8 if they are valid
UTF-8, else Windows-1252 (Mixxx sends Latin-1). Titles and artists longer
than ``MAX_TITLE_CHARS`` are cut short rather than refused: an encoder
shows no refusal to its DJ, who would only see the title go missing.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes
from xml.sax.saxutils import escape

from radio.protocol import MAX_TITLE_CHARS, ProtocolError
from radio.sockets import arate_limit_titles

from ..runtime import get_bus
from ..streaming.audience import title_and_artist
from ..streaming.bus import LIVE
from ..streaming.hub import now_playing_event
from .auth import (
    CHALLENGE,
    SourceAccount,
    SourceRefused,
    aauthorize_source,
    parse_basic_auth,
    parse_shoutcast_login,
)

ICECAST_PATH = "/admin/metadata"
SHOUTCAST_PATH = "/admin.cgi"
# The mount's extension tells Icecast clients the format; the station is
# the same whichever they name.
MOUNT_EXTENSIONS = (".mp3", ".ogg", ".aac", ".opus")
# Tried in order when the query names no charset.
FALLBACK_CHARSETS = ("utf-8", "cp1252")
XML = "text/xml"


@dataclass(frozen=True)
class AdminAnswer:
    """The HTTP response to an encoder's admin request."""

    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


def _iceresponse(message: str, success: bool) -> bytes:
    text = (
        '<?xml version="1.0"?>\n<iceresponse><message>'
        f"{escape(message)}</message><return>{int(success)}</return>"
        "</iceresponse>"
    )
    return text.encode()


def _refusal_answer(refusal: SourceRefused) -> AdminAnswer:
    return AdminAnswer(
        status=refusal.status,
        body=_iceresponse(refusal.reason, success=False),
        content_type=XML,
        headers=(CHALLENGE,) if refusal.status == 401 else (),
    )


# --- The query ---------------------------------------------------------------


def query_values(query: bytes) -> dict[str, str]:
    """The query's values by name, decoded as the module docstring says.

    A name given twice keeps its first value. Raises SourceRefused (400)
    for an unknown or wrong ``charset``.
    """
    raw: dict[str, bytes] = {}
    for pair in filter(None, query.split(b"&")):
        key, _, value = pair.replace(b"+", b" ").partition(b"=")
        name = unquote_to_bytes(key).decode("latin-1")
        raw.setdefault(name, unquote_to_bytes(value))
    charset = raw.pop("charset", b"").decode("latin-1")
    return {name: _decode(value, charset) for name, value in raw.items()}


def _decode(value: bytes, charset: str) -> str:
    if charset:
        try:
            return value.decode(codecs.lookup(charset).name)
        except LookupError:
            raise SourceRefused(400, f"Unknown charset {charset}") from None
        except UnicodeDecodeError:
            raise SourceRefused(400, f"Not valid {charset}") from None
    for fallback in FALLBACK_CHARSETS:
        try:
            return value.decode(fallback)
        except UnicodeDecodeError:
            continue
    # Bytes that Windows-1252 leaves undefined (0x81, 0x8d, ...).
    return value.decode("latin-1")


def song_fields(values: dict[str, str]) -> tuple[str, str]:
    """``(title, artist)``: from ``song`` ("Artist - Title"), else from
    ``title`` and ``artist``; each cut to MAX_TITLE_CHARS."""
    if "song" in values:
        title, artist = title_and_artist(values["song"].strip())
    elif "title" in values or "artist" in values:
        title, artist = values.get("title", ""), values.get("artist", "")
    else:
        raise SourceRefused(400, "Missing parameter song")
    return _title_text(title), _title_text(artist)


def _title_text(text: str) -> str:
    text = text.strip()
    if any(unicodedata.category(char) == "Cc" for char in text):
        raise SourceRefused(400, "The title holds a control character")
    return text[:MAX_TITLE_CHARS].rstrip()


def mount_slug(mount: str) -> str:
    """The station slug of an Icecast mount: ``/slug`` or ``/slug.mp3``."""
    slug = mount.removeprefix("/")
    for extension in MOUNT_EXTENSIONS:
        if slug.endswith(extension):
            return slug.removesuffix(extension)
    return slug


# --- Logging in --------------------------------------------------------------


async def _icecast_account(
    values: dict[str, str], authorization: str | None, address: str
) -> SourceAccount:
    mount = values.get("mount")
    if not mount:
        raise SourceRefused(400, "Missing parameter mount")
    return await aauthorize_source(
        slug=mount_slug(mount),
        credentials=parse_basic_auth(authorization),
        address=address,
    )


async def _shoutcast_account(values: dict[str, str], address: str) -> SourceAccount:
    login = values.get("pass")
    if login is None:
        credentials, slug = None, None
    else:
        username, password, slug = parse_shoutcast_login(login.encode())
        credentials = (username, password)
    return await aauthorize_source(slug=slug, credentials=credentials, address=address)


# --- Setting the title -------------------------------------------------------


async def _set_title(account: SourceAccount, *, title: str, artist: str) -> None:
    """Say what plays from the next audio packet on, while a DJ is live."""
    station_id = account.station.pk
    bus = get_bus()
    state = await bus.state(station_id)
    if not (state["on_air"] and state["source"] == LIVE):
        raise SourceRefused(400, "Source does not exist")
    try:
        await arate_limit_titles(account.lease_user_id)
    except ProtocolError as problem:
        raise SourceRefused(429, str(problem)) from None
    # The next packet's seq, as a console DJ's titles have: players switch
    # titles when that packet's audio reaches them.
    seq = (await bus.last_seq(station_id) or 0) + 1
    event = now_playing_event(title=title, artist=artist, source=LIVE, seq=seq)
    await bus.publish(station_id, event)


async def answer_admin_request(
    *, path: str, query: bytes, authorization: str | None, address: str
) -> AdminAnswer:
    """Answer an encoder's ``/admin/metadata`` (Icecast, HTTP Basic auth in
    ``authorization``) or ``/admin.cgi`` (Shoutcast, ``pass=`` in the query).

    ``query`` is the raw query string; ``address`` the client's, as
    ``listeners.throttle.client_address`` gives it. Only ``mode=updinfo`` is
    known, and only while the station is live from a DJ.
    """
    try:
        values = query_values(query)
        if path == ICECAST_PATH:
            account = await _icecast_account(values, authorization, address)
        elif path == SHOUTCAST_PATH:
            account = await _shoutcast_account(values, address)
        else:
            raise SourceRefused(404, "Not found")
        if values.get("mode") != "updinfo":
            raise SourceRefused(400, "Unsupported mode")
        title, artist = song_fields(values)
        await _set_title(account, title=title, artist=artist)
    except SourceRefused as refusal:
        return _refusal_answer(refusal)
    return AdminAnswer(
        status=200,
        body=_iceresponse("Metadata update successful", success=True),
        content_type=XML,
    )
