"""Joining a station's output in this worker, and leaving it.

The room's listeners, the DJs' consoles and ``stream.mp3`` players join the
same way: the station's hub in this worker is attached; a socket gets its
first message and the chat so far; then the burst and the live output
follow with no gap and no repeat. They leave the same way too, and the hub
is detached when its last client has gone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from radio.protocol import CHAT, CHAT_DELETED, CHAT_HISTORY, encode

from .models import Station
from .programme.live import follow_schedule
from .runtime import get_bus
from .selectors import achat_history
from .statistics.recorder import Visit, get_recorder
from .streaming.audience import Listener
from .streaming.hub import StationHub


async def join_station(
    station: Station,
    make_listener: Callable[[StationHub], Listener],
    *,
    hello: Callable[[StationHub], dict[str, Any]] | None = None,
    visit: Visit | None = None,
) -> Listener:
    """Join ``make_listener(hub)`` to the station's output here.

    With ``visit``, a counted listener's listening session is recorded
    (``statistics.recorder``) until it leaves.

    With ``hello``, a socket's first message is ``hello(hub)``, built once
    the station's schedule is known (``programme.live``), and its second
    ``chat.history``; chat that comes while the history is read follows it,
    once.
    """
    async with get_bus().joining(station.pk) as hub:
        if hello:
            await follow_schedule(station.pk, hub)
        mark = hub.events_published
        history = await achat_history(station) if hello else []
        # From here to hub.join() nothing is awaited, so what the client is
        # told and the burst and live packets that follow meet without a gap.
        listener = make_listener(hub)
        if hello:
            listener.transport.send_text(encode(hello(hub)))
            listener.transport.send_text(
                encode({"type": CHAT_HISTORY, "messages": history})
            )
        hub.join(listener)
    if visit is not None and listener.counted:
        get_recorder().open(listener, visit)
    if hello:
        in_history = {message["id"] for message in history}
        for event in hub.events_since(mark):
            if event.type == CHAT_DELETED or (
                event.type == CHAT and event.data["id"] not in in_history
            ):
                listener.deliver_event(event)
    return listener


async def astation_full(station: Station) -> bool:
    """Whether the station has its ``max_listeners`` listeners already.

    Counted on every worker, as the listener counts are: listeners that
    other workers took in the last count interval may be missed, so a
    full station may briefly hold a few more.
    """
    if not station.max_listeners:
        return False
    return await get_bus().listener_count(station.pk) >= station.max_listeners


async def leave_station(station: Station, listener: Listener) -> None:
    """Take ``listener`` out of the station's output and release its transport."""
    get_recorder().close(listener)
    bus = get_bus()
    hub = bus.hub(station.pk)
    if hub is not None:
        hub.leave(listener)
    try:
        await listener.transport.aclose()
    finally:
        await bus.detach(station.pk)
