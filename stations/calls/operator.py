"""Who hears of a call's change: its caller, the console that answered it,
and every console of the station (the queue).

The sockets' handlers (``calls.sockets``) make a change with
``calls.services`` and hand it here.
"""

from __future__ import annotations

from radio import protocol
from stations.models import Station

from .models import Call
from .selectors import acall_queue, acall_rules, call_for_caller
from .services import Change, acall_end
from .switchboard import get_switchboard

# Switchboard messages to the sockets (their ``call_message``).
STATE = "state"
SIGNAL = "signal"
QUEUE = "queue"


async def announce(station: Station, change: Change) -> None:
    """Tell both sides of every call the change touched, then the consoles."""
    rules = await acall_rules(station)
    switchboard = get_switchboard()
    for call in (change.call, *change.also):
        message = {
            "kind": STATE,
            "call": call_for_caller(call, rules.time_limit),
            "dj": call.dj_address,
        }
        await switchboard.send(call.caller_address, message)
        if call.dj_address:
            await switchboard.send(call.dj_address, message)
    await announce_queue(station)


async def announce_queue(station: Station) -> None:
    queue = await acall_queue(station)
    await get_switchboard().tell_desks(station.pk, {"kind": QUEUE, "queue": queue})


async def end(station: Station, call_id: int, reason: str) -> Call | None:
    """End the call (hung up by its caller, dropped, over its time) and tell
    everyone concerned; None if it had ended already."""
    call = await acall_end(call_id=call_id, reason=reason)
    if call is not None:
        await announce(station, Change(call))
    return call


async def relay_signal(address: str, call_id: int, signal: dict) -> None:
    """Pass a WebRTC ``signal`` of the call on to the other side's socket."""
    await get_switchboard().send(
        address,
        {
            "kind": SIGNAL,
            "message": {"type": protocol.CALL_SIGNAL, "id": call_id, "signal": signal},
        },
    )
