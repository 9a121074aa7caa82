"""The HLS endpoints on the ASGI application, fed by this process's bus."""

from __future__ import annotations

import pytest
from channels.routing import URLRouter
from channels.testing import HttpCommunicator

from stations.routing import http_urlpatterns
from stations.runtime import get_bus
from stations.streaming.hls import SEGMENT_PACKETS, Segmenter
from stations.streaming.packets import AudioPacket

from .conftest import STATION_SLUG

HLS = f"/stations/{STATION_SLUG}/hls/"


async def get(path: str, method: str = "GET") -> dict:
    app = URLRouter(http_urlpatterns)
    return await HttpCommunicator(app, method, path).get_response()


async def publish_packets(station_id: int, seqs: range) -> list[AudioPacket]:
    packets = [
        AudioPacket.build(
            seq=seq, ingest_ms=1000 * seq, duration_ms=100, frames=b"%d;" % seq
        )
        for seq in seqs
    ]
    for packet in packets:
        await get_bus().publish(station_id, packet)
    return packets


@pytest.mark.django_db(transaction=True)
async def test_a_segment_just_made_is_served_before_the_next_refresh(station):
    """A segment another worker already lists is read and served at once."""
    sent = await publish_packets(station.pk, range(3 * SEGMENT_PACKETS + 1))
    playlist = await get(HLS + "live.m3u8")
    sent += await publish_packets(
        station.pk, range(3 * SEGMENT_PACKETS + 1, 4 * SEGMENT_PACKETS + 1)
    )
    elsewhere = Segmenter()
    elsewhere.feed(sent)
    newest = elsewhere.segments[-1]

    segment = await get(HLS + newest.name)

    assert newest.name not in playlist["body"].decode()
    assert segment["status"] == 200
    assert segment["body"] == newest.data


@pytest.mark.django_db(transaction=True)
async def test_unknown_stations_segments_and_methods_are_refused(station):
    """404 for an unknown station or segment, 405 for anything but GET/HEAD."""
    await publish_packets(station.pk, range(2 * SEGMENT_PACKETS + 1))
    listed = (await get(HLS + "live.m3u8"))["body"].decode()

    assert (await get("/stations/nowhere/hls/live.m3u8"))["status"] == 404
    assert (await get(HLS + "1-000000000000.mp3"))["status"] == 404
    assert (await get(HLS + "9-000000000000.mp3"))["status"] == 404
    assert (await get(HLS + "live.m3u8", method="POST"))["status"] == 405
    assert "\n1-" in listed
