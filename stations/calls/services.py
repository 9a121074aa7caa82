"""Changing calls: a listener calls, a DJ answers, moves and ends them.

Each change locks the station's rules row, so that two workers never
both let a caller past a limit or put two callers on air. Who is told of
a change is ``calls.operator``'s business.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from radio import protocol
from radio.protocol import ProtocolError
from stations.models import Station

from .models import Call, CallerBlock, CallRules

# The states of a call that holds a line: answered, not yet ended.
CONNECTED = (Call.State.PRIVATE, Call.State.ON_AIR, Call.State.HOLD)
# The states a DJ may move an answered call to.
MOVES = {
    protocol.CALL_PRIVATE: Call.State.PRIVATE,
    protocol.CALL_AIR: Call.State.ON_AIR,
    protocol.CALL_HOLD: Call.State.HOLD,
}
# Callers on air at once; another put on air sends the one before on hold.
MAX_ON_AIR = 1


class CallRefused(ProtocolError):
    """A call or a change of one that may not be; the socket answers it as
    an ``error`` with its code."""


@dataclass(frozen=True)
class Change:
    """What a change did: the call, and the calls it moved besides."""

    call: Call
    also: tuple[Call, ...] = ()


def _locked_rules(station: Station) -> CallRules:
    rules = CallRules.objects.select_for_update().filter(station=station).first()
    return rules or CallRules(station=station)


@database_sync_to_async
def acall_request(
    *, station: Station, caller: AbstractBaseUser, text: str, address: str
) -> Change:
    """``caller`` calls the station's DJs from the socket at ``address``.

    A call of theirs still open (another tab, or a socket that dropped
    without being told) ends first: a listener holds one call at a time.
    """
    with transaction.atomic():
        rules = _locked_rules(station)
        if not rules.open:
            raise CallRefused(
                "This station is not taking calls now."
                if rules.enabled
                else "This station does not take calls.",
                protocol.CALLS_CLOSED,
            )
        if CallerBlock.objects.filter(station=station, user=caller).exists():
            raise CallRefused(
                "The station's DJs do not take your calls.", protocol.FORBIDDEN
            )
        replaced = tuple(
            _end(call, Call.End.REPLACED)
            for call in Call.objects.filter(station=station, caller=caller).exclude(
                state=Call.State.ENDED
            )
        )
        waiting = Call.objects.filter(station=station, state=Call.State.WAITING)
        if waiting.count() >= rules.max_waiting:
            raise CallRefused(
                "All lines are busy; try again in a few minutes.", protocol.LINE_BUSY
            )
        call = Call.objects.create(
            station=station, caller=caller, text=text, caller_address=address
        )
    return Change(call, replaced)


@database_sync_to_async
def acall_answer(
    *, station: Station, dj: AbstractBaseUser, call_id: int, address: str
) -> Change:
    """A DJ answers a waiting call from their console at ``address``; the
    two talk off air."""
    with transaction.atomic():
        _locked_rules(station)
        call = _open_call(station, call_id, states=(Call.State.WAITING,))
        call.state = Call.State.PRIVATE
        call.dj = dj
        call.dj_address = address
        call.answered_at = timezone.now()
        call.save(update_fields=["state", "dj", "dj_address", "answered_at"])
    return Change(call)


@database_sync_to_async
def acall_move(*, station: Station, call_id: int, kind: str, address: str) -> Change:
    """Move an answered call of the console at ``address`` on air, off air
    (private) or on hold (``kind`` a ``MOVES`` message type)."""
    with transaction.atomic():
        _locked_rules(station)
        call = _answered_here(station, call_id, address)
        state = MOVES[kind]
        held: tuple[Call, ...] = ()
        if state == Call.State.ON_AIR:
            on_air = Call.objects.filter(station=station, state=Call.State.ON_AIR)
            extra = on_air.exclude(pk=call.pk).count() - MAX_ON_AIR + 1
            if extra > 0:
                held = tuple(on_air.exclude(pk=call.pk).order_by("answered_at")[:extra])
                for other in held:
                    other.state = Call.State.HOLD
                    other.save(update_fields=["state"])
        call.state = state
        call.save(update_fields=["state"])
    return Change(call, held)


@database_sync_to_async
def acall_end_by_dj(
    *, station: Station, call_id: int, address: str, block_by: AbstractBaseUser | None
) -> Change:
    """The DJ declines a waiting call or hangs up one they answered; with
    ``block_by``, that DJ blocks the caller from calling again."""
    with transaction.atomic():
        _locked_rules(station)
        call = _open_call(station, call_id, states=(Call.State.WAITING, *CONNECTED))
        if call.state != Call.State.WAITING and call.dj_address != address:
            raise CallRefused(
                "Another console answered this call.", protocol.NO_SUCH_CALL
            )
        if block_by is not None:
            CallerBlock.objects.get_or_create(
                station=station, user=call.caller, defaults={"blocked_by": block_by}
            )
            reason = Call.End.BLOCKED
        elif call.state == Call.State.WAITING:
            reason = Call.End.DECLINED
        else:
            reason = Call.End.DJ
        return Change(_end(call, reason))


@database_sync_to_async
def acall_end(*, call_id: int, reason: str) -> Call | None:
    """End a call whatever its state (hung up by the caller, dropped, over
    its time); None if it had ended already."""
    with transaction.atomic():
        call = (
            Call.objects.select_for_update()
            .select_related("caller")
            .filter(pk=call_id)
            .exclude(state=Call.State.ENDED)
            .first()
        )
        return _end(call, reason) if call else None


@database_sync_to_async
def acalls_pause(*, station: Station, paused: bool) -> CallRules:
    with transaction.atomic():
        rules, _ = CallRules.objects.select_for_update().get_or_create(station=station)
        rules.paused = paused
        rules.save(update_fields=["paused"])
    return rules


def _open_call(station: Station, call_id: int, *, states: tuple[str, ...]) -> Call:
    call = (
        Call.objects.select_related("caller")
        .filter(station=station, pk=call_id, state__in=states)
        .first()
    )
    if call is None:
        raise CallRefused(
            "No such call, or it has moved on; see the queue.", protocol.NO_SUCH_CALL
        )
    return call


def _answered_here(station: Station, call_id: int, address: str) -> Call:
    call = _open_call(station, call_id, states=CONNECTED)
    if call.dj_address != address:
        raise CallRefused("Another console answered this call.", protocol.NO_SUCH_CALL)
    return call


def _end(call: Call, reason: str) -> Call:
    call.state = Call.State.ENDED
    call.end_reason = reason
    call.ended_at = timezone.now()
    call.save(update_fields=["state", "end_reason", "ended_at"])
    return call
