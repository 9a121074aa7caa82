"""One station's hub: the burst, the state and the counts for its listeners."""

from __future__ import annotations

import asyncio

import pytest

from radio.protocol import LISTENERS, MAX_LISTED_USERS, NOW_PLAYING, ON_AIR
from stations.streaming.audience import Audience, ControlListener
from stations.streaming.hub import (
    RECENT_EVENTS,
    Cadence,
    StationHub,
    listeners_with_users,
    now_playing_event,
    on_air_event,
)
from stations.streaming.packets import AudioPacket, Event
from tests.support.streaming import recorded_listener

BURST_S = 1.0


def packet(seq: int) -> AudioPacket:
    return AudioPacket.build(seq=seq, ingest_ms=0, duration_ms=100, frames=b"mp3")


def chat(number: int) -> Event:
    return Event.build({"type": "chat", "id": number, "text": f"message {number}"})


@pytest.fixture
def hub() -> StationHub:
    return StationHub(burst_seconds=BURST_S)


def test_join_on_air_delivers_the_burst_first(hub):
    """A listener joining on air gets the burst, then live audio, no gap or repeat."""
    hub.publish(on_air_event(on_air=True, source="live"))
    for seq in range(1, 16):
        hub.publish(packet(seq))
    listener, transport = recorded_listener()
    hub.join(listener)
    hub.publish(packet(16))
    assert transport.binaries() == [packet(seq).wire for seq in range(6, 17)]


# Two listeners make a crowd here; they take turns in two groups, each
# group written every 200 ms, the turns 100 ms apart.
CADENCE = Cadence(from_listeners=2, batch_ms=200, groups=2)
TURN_S = CADENCE.batch_ms / 1000 / CADENCE.groups


@pytest.fixture
def crowded_hub() -> StationHub:
    """A hub on air that writes in turns, with two listeners."""
    hub = StationHub(burst_seconds=BURST_S, cadence=CADENCE)
    hub.publish(on_air_event(on_air=True, source="live"))
    for _ in range(CADENCE.from_listeners):
        hub.join(recorded_listener()[0])
    return hub


def in_both_groups(hub: StationHub):
    """A recorded listener in each of the hub's two groups (the next two joins)."""
    first, first_transport = recorded_listener()
    second, second_transport = recorded_listener()
    hub.join(first)
    hub.join(second)
    return first_transport, second_transport


async def audio_until(transport, seq: int) -> None:
    """Wait until ``transport`` has been written the packet ``seq``."""
    while not any(seq in write for write in transport.audio_writes):
        await transport.next_message()


def test_with_few_listeners_each_packet_is_written_as_it_comes():
    hub = StationHub(burst_seconds=BURST_S, cadence=CADENCE)
    listener, transport = recorded_listener()
    hub.join(listener)
    for seq in range(1, 4):
        hub.publish(packet(seq))
    assert transport.audio_writes == [(1,), (2,), (3,)]


async def test_with_many_listeners_each_group_is_written_on_its_turns(crowded_hub):
    """Each listener gets one write per period, with all that came since its
    last, each packet its own message; the groups' turns are spread out."""
    loop = asyncio.get_running_loop()
    first, second = in_both_groups(crowded_hub)
    started = loop.time()
    for seq in (1, 2, 3):
        crowded_hub.publish(packet(seq))
    # The first packet began the turns: the first group's came at once.
    assert first.audio_writes == [(1,)]
    assert second.audio_writes == []
    await audio_until(second, 3)
    second_turn = loop.time() - started
    await audio_until(first, 3)
    first_again = loop.time() - started
    assert first.audio_writes == [(1,), (2, 3)]
    assert second.audio_writes == [(1, 2, 3)]
    assert first.binaries() == [packet(seq).wire for seq in (1, 2, 3)]
    assert second_turn >= TURN_S * 0.9
    assert first_again >= 2 * TURN_S * 0.9


async def test_a_listener_joining_while_audio_waits_gets_it_once(crowded_hub):
    """The burst ends where the joiner's group was written; the rest comes on
    the group's turn, with no gap and no repeat."""
    for seq in range(1, 5):
        crowded_hub.publish(packet(seq))
    first, second = in_both_groups(crowded_hub)
    crowded_hub.publish(packet(5))
    await audio_until(first, 5)
    await audio_until(second, 5)
    assert first.audio_writes == [(1,), (2, 3, 4, 5)]
    assert second.audio_writes == [(1, 2, 3, 4, 5)]
    for transport in (first, second):
        assert transport.binaries() == [packet(seq).wire for seq in range(1, 6)]


async def test_a_change_of_producer_waits_for_no_audio(crowded_hub):
    """What waits is written to every group before an on_air change: players
    start afresh on the new producer's audio."""
    _first, second = in_both_groups(crowded_hub)
    crowded_hub.publish(packet(1))
    crowded_hub.publish(packet(2))
    off_air = on_air_event(on_air=False, source=None)
    crowded_hub.publish(off_air)
    assert second.written == [packet(1).wire, packet(2).wire, off_air.text]


async def test_other_events_do_not_wait_for_audio(crowded_hub):
    """A chat message goes out at once; the audio waits for its turn."""
    _first, second = in_both_groups(crowded_hub)
    crowded_hub.publish(packet(1))
    crowded_hub.publish(chat(1))
    assert second.written == [chat(1).text]
    await audio_until(second, 1)
    assert second.written == [chat(1).text, packet(1).wire]


async def test_a_source_that_pauses_does_not_hold_its_audio(crowded_hub):
    """What waits is written on each group's turn, without more audio."""
    first, second = in_both_groups(crowded_hub)
    crowded_hub.publish(packet(1))
    crowded_hub.publish(packet(2))
    await audio_until(first, 2)
    await audio_until(second, 2)
    assert first.audio_writes == [(1,), (2,)]
    assert second.audio_writes == [(1, 2)]


async def test_a_backlog_is_written_a_second_at_a_time(crowded_hub):
    """A worker catching up after a stall has much waiting for a group: it is
    written in batches of at most MAX_BATCH_MS, each while the listener takes
    writes, so a listener that stops taking them skips the rest."""
    first, second = in_both_groups(crowded_hub)
    first.is_writable = False
    for seq in range(1, 23):
        crowded_hub.publish(packet(seq))
    await audio_until(second, 22)
    assert second.audio_writes == [
        tuple(range(1, 11)),
        tuple(range(11, 21)),
        (21, 22),
    ]
    assert first.audio_writes == []


async def test_fewer_listeners_again_get_each_packet_as_it_comes():
    """Below the crowd's size, what waits goes out with the next packet."""
    hub = StationHub(burst_seconds=BURST_S, cadence=CADENCE)
    hub.publish(on_air_event(on_air=True, source="live"))
    leaving, _ = recorded_listener()
    staying, transport = recorded_listener()
    hub.join(leaving)
    hub.join(staying)
    hub.publish(packet(1))
    hub.publish(packet(2))
    hub.leave(leaving)
    hub.publish(packet(3))
    assert transport.audio_writes == [(1, 2, 3)]


def test_a_crowd_too_big_for_the_write_budget_is_written_less_often():
    cadence = Cadence(from_listeners=2000, batch_ms=250, writes_per_second=36_000)
    assert cadence.period_ms(2000) == 250
    assert cadence.period_ms(9000) == 250
    assert cadence.period_ms(18_000) == 500
    assert Cadence(batch_ms=250).period_ms(100_000) == 250


def test_join_off_air_delivers_no_burst(hub):
    """Off air a joining listener gets no old audio."""
    for seq in range(1, 4):
        hub.publish(packet(seq))
    listener, transport = recorded_listener()
    hub.join(listener)
    assert transport.written == []


def test_going_off_air_clears_the_burst(hub):
    """Audio from before an off-air is not replayed after the next on-air."""
    hub.publish(on_air_event(on_air=True, source="autodj"))
    hub.publish(packet(1))
    hub.publish(on_air_event(on_air=False, source=None))
    assert hub.burst.snapshot() == []
    hub.publish(on_air_event(on_air=True, source="live"))
    hub.publish(packet(2))
    listener, transport = recorded_listener()
    hub.join(listener)
    assert transport.binaries() == [packet(2).wire]
    assert hub.last_seq == 2


def test_a_listener_who_left_gets_nothing_more(hub):
    """After leave(), neither audio nor events reach the listener."""
    listener, transport = recorded_listener()
    hub.join(listener)
    hub.publish(chat(1))
    hub.leave(listener)
    hub.publish(chat(2))
    hub.publish(packet(1))
    assert transport.written == [chat(1).text]
    assert not hub.has_clients


def test_events_since_gives_the_events_missed_after_a_mark(hub):
    """Events published after ``events_published`` was read are given back."""
    hub.publish(chat(1))
    mark = hub.events_published
    hub.publish(chat(2))
    hub.publish(packet(1))
    hub.publish(chat(3))
    assert hub.events_since(mark) == [chat(2), chat(3)]
    assert hub.events_since(hub.events_published) == []


def test_events_since_keeps_only_the_recent_events(hub):
    """Only the last RECENT_EVENTS are remembered for late joiners."""
    for number in range(RECENT_EVENTS + 10):
        hub.publish(chat(number))
    missed = hub.events_since(0)
    assert len(missed) == RECENT_EVENTS
    assert missed[-1] == chat(RECENT_EVENTS + 9)


def test_state_follows_on_air_and_now_playing(hub):
    """on_air sets the source and broadcast; now_playing the title; off air
    clears them."""
    broadcast = {"dj": "dj", "name": "Night Shift"}
    hub.publish(on_air_event(on_air=True, source="live", broadcast=broadcast))
    title = now_playing_event(title="Song", artist="Band", source="live", seq=4)
    hub.publish(title)
    assert hub.state.as_dict() == {
        "on_air": True,
        "source": "live",
        "broadcast": broadcast,
        "now_playing": {k: v for k, v in title.data.items() if k != "type"},
    }
    hub.publish(on_air_event(on_air=False, source=None))
    assert hub.state.as_dict() == {
        "on_air": False,
        "source": None,
        "broadcast": None,
        "now_playing": None,
    }


def test_listeners_get_events_in_order(hub):
    """Every listener gets each event's text as published."""
    first, first_transport = recorded_listener()
    second, second_transport = recorded_listener()
    hub.join(first)
    hub.join(second)
    hub.publish(on_air_event(on_air=True, source="live"))
    hub.publish(chat(1))
    for transport in (first_transport, second_transport):
        assert [event["type"] for event in transport.events()] == [ON_AIR, "chat"]


def test_update_audience_gives_counts_to_listeners_and_names_to_consoles(hub):
    """Listeners learn the count; DJs' consoles also learn who is signed in."""
    listener, listener_transport = recorded_listener(username="ann")
    console, console_transport = recorded_listener(ControlListener, username="dj")
    hub.join(listener)
    hub.join(console)
    hub.update_audience(
        Audience(count=3, users=frozenset({"ann", "bob"})), counted_here=1
    )
    assert listener_transport.events() == [{"type": LISTENERS, "count": 3}]
    assert console_transport.events() == [
        {"type": LISTENERS, "count": 3, "users": ["ann", "bob"]}
    ]


async def test_a_crowd_hears_the_count_on_its_groups_turns(crowded_hub):
    """While turns run, each group gets a new count on its turn, before its
    audio and in the same write; told all at once it would hold the audio
    back."""
    first, second = in_both_groups(crowded_hub)
    crowded_hub.publish(packet(1))
    crowded_hub.update_audience(Audience(count=4), counted_here=4)
    assert second.written == []
    await audio_until(second, 1)
    count = Event.build({"type": LISTENERS, "count": 4}).text
    assert second.written == [count, packet(1).wire]
    assert second.audio_leads == [count]
    assert first.written[0] == packet(1).wire
    # The first group's next turn tells it, though no audio waits for it.
    assert (await first.next_event(LISTENERS))["count"] == 4


def test_an_unchanged_audience_is_not_announced_again(hub):
    """The same count and names twice make one message."""
    listener, transport = recorded_listener()
    hub.join(listener)
    audience = Audience(count=2, users=frozenset({"ann"}))
    hub.update_audience(audience, counted_here=1)
    hub.update_audience(audience, counted_here=1)
    assert len(transport.events()) == 1


def test_consoles_are_not_counted_as_listeners(hub):
    """A DJ's console is a client but not a listener."""
    console, _ = recorded_listener(ControlListener, username="dj")
    listener, _ = recorded_listener(username="ann")
    hub.join(console)
    hub.join(listener)
    assert hub.client_count == 2
    assert hub.local_count == 1
    assert hub.local_audience == Audience(count=1, users=frozenset({"ann"}))


def test_a_user_is_listed_while_any_of_their_tabs_listens(hub):
    """Two tabs of one user count twice and list the name once, until both
    have left; leaving twice changes nothing."""
    first, _ = recorded_listener(username="ann")
    second, _ = recorded_listener(username="ann")
    hub.join(first)
    hub.join(second)
    assert hub.local_audience == Audience(count=2, users=frozenset({"ann"}))
    hub.leave(first)
    hub.leave(first)
    assert hub.local_audience == Audience(count=1, users=frozenset({"ann"}))
    hub.leave(second)
    assert hub.local_audience == Audience()


def test_listener_estimate_corrects_the_last_total_for_this_process(hub):
    """The estimate is the last total, minus this process's share, plus now."""
    here = [recorded_listener()[0] for _ in range(2)]
    for listener in here:
        hub.join(listener)
    hub.update_audience(Audience(count=10), counted_here=2)
    assert hub.listener_estimate == 10
    extra, _ = recorded_listener()
    hub.join(extra)
    assert hub.listener_estimate == 11
    hub.leave(here[0])
    hub.leave(here[1])
    assert hub.listener_estimate == 9


def test_listed_users_are_sorted_and_capped():
    """DJs get at most MAX_LISTED_USERS names, in order."""
    users = frozenset(f"user{n:04d}" for n in range(MAX_LISTED_USERS + 5))
    message = listeners_with_users(Audience(count=len(users), users=users))
    assert message["users"] == sorted(users)[:MAX_LISTED_USERS]
    assert message["count"] == MAX_LISTED_USERS + 5


def test_now_playing_event_says_from_which_packet(hub):
    """now_playing carries the seq of the first packet of the title."""
    event = now_playing_event(title="Song", artist="", source="autodj", seq=42)
    assert event.type == NOW_PLAYING
    assert event.data["seq"] == 42
    assert event.data["started_at"]
