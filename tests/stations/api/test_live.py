"""A worker's now-playing feed builds the object once per change, however
many SSE streams of the station it has."""

from __future__ import annotations

import asyncio
import json

from stations.api import live
from stations.api.live import NowPlayingFeed, Stream
from stations.api.nowplaying import Site
from stations.models import Station
from stations.streaming.hub import now_playing_event

WIDGETS = 50


async def test_one_build_per_change_reaches_every_stream(monkeypatch):
    builds = []

    async def build(station, bus, site):
        builds.append(station.slug)
        await asyncio.sleep(0)
        return {"build": len(builds)}

    monkeypatch.setattr(live, "anowplaying_fresh", build)
    monkeypatch.setattr(live, "get_bus", lambda: None)
    feed = NowPlayingFeed(Station(pk=1, slug="feed-fm"), Site("http://x"))
    streams = [Stream() for _ in range(WIDGETS)]
    feed.streams.update(streams)

    # Changes before a build has read anything share it.
    for seq in range(3):
        feed.deliver_event(title_event(seq))
    await feed._building
    first = [stream.take() for stream in streams]
    # Changes while it builds make one more build after it, not one each.
    feed.deliver_event(title_event(3))
    await asyncio.sleep(0)
    feed.deliver_event(title_event(4))
    feed.deliver_event(title_event(5))
    await feed._building

    assert len(builds) == 3
    assert {
        json.loads(message.removeprefix("data: "))["build"] for message in first
    } == {1}
    assert [stream.take() for stream in streams] == [
        live.sse_message({"build": 3})
    ] * WIDGETS


def title_event(seq: int):
    return now_playing_event(title=str(seq), artist="", source="live", seq=seq)
