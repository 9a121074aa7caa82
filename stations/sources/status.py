"""``status-json.xsl``: the stations on air as Icecast 2.4 lists its mounts,
for encoders (BUTT) and OBS plugins that show the listener count."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..models import Station
from ..streaming.audience import stream_title
from ..streaming.packets import OUTPUT_CHANNELS, OUTPUT_SAMPLE_RATE
from ..streams import stream_path

SERVER_ID = "radio"
# Every station's output is MP3, whatever its source sends.
SERVER_TYPE = "audio/mpeg"
# When this process began to serve, near enough: the import of this module.
SERVER_STARTED = datetime.now(UTC)


def icestats(
    stations: list[tuple[Station, dict[str, Any], int]],
    *,
    host: str,
    absolute_url: Callable[[str], str],
) -> dict[str, Any]:
    """The ``icestats`` document of ``stations`` (each with its bus state and
    listener count), listing those on air as Icecast lists the mounts that
    have a source: one object for one, an array for several, none for none.

    ``absolute_url`` makes a path absolute, as ``build_absolute_uri`` does.
    """
    stats: dict[str, Any] = {
        "admin": "",
        "host": host,
        "location": "",
        "server_id": SERVER_ID,
        "server_start_iso8601": SERVER_STARTED.isoformat(timespec="seconds"),
    }
    sources = [
        icecast_source(station, state, listeners, absolute_url)
        for station, state, listeners in stations
        if state["on_air"]
    ]
    if sources:
        stats["source"] = sources[0] if len(sources) == 1 else sources
    return {"icestats": stats}


def icecast_source(
    station: Station,
    state: dict[str, Any],
    listeners: int,
    absolute_url: Callable[[str], str],
) -> dict[str, Any]:
    """One on-air station as an Icecast mount; what the encoder said of its
    broadcast (``state["broadcast"]``) comes before the station's own."""
    broadcast = state["broadcast"] or {}
    page = station.get_absolute_url()
    return {
        "audio_info": (
            f"ice-samplerate={OUTPUT_SAMPLE_RATE};ice-bitrate={station.bitrate};"
            f"ice-channels={OUTPUT_CHANNELS}"
        ),
        "bitrate": station.bitrate,
        "genre": broadcast.get("genre") or "",
        # Peaks are not kept: the count now is the highest known.
        "listener_peak": listeners,
        "listeners": listeners,
        "listenurl": absolute_url(stream_path(station.slug)),
        "server_description": broadcast.get("description") or station.description,
        "server_name": broadcast.get("name") or station.name,
        "server_type": SERVER_TYPE,
        "server_url": broadcast.get("url") or absolute_url(page),
        "stream_start_iso8601": broadcast.get("started_at"),
        "title": stream_title(state["now_playing"]),
        "dummy": None,
    }
