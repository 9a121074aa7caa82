"""Changing the private inbox: sending, reading, blocking.

Each change notifies the user's connections (group ``inbox.<pk>``) once
its transaction has committed, so nobody hears of a rolled-back message.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from radio.protocol import INBOX_MESSAGE, INBOX_READ
from stations.models import Station

from .inbox import group_name
from .models import Block, InboxMessage
from .selectors import inbox_message_as_dict

logger = logging.getLogger(__name__)


class UnknownUser(LookupError):
    """No user has the given username."""


class NotStationDj(PermissionError):
    """A shoutout names a station the sender is not a DJ of (or no station)."""


def user_get(username: str) -> AbstractBaseUser:
    """The user called ``username``; :class:`UnknownUser` if none is."""
    user_model = get_user_model()
    user = user_model._default_manager.filter(
        **{user_model.USERNAME_FIELD: username}
    ).first()
    if user is None:
        raise UnknownUser(username)
    return user


def _notify_on_commit(user_pk: int, event: dict[str, Any]) -> None:
    """Send ``event`` to every connection of the user once committed."""
    channel_layer = get_channel_layer()

    def send() -> None:
        try:
            async_to_sync(channel_layer.group_send)(group_name(user_pk), event)
        except ChannelFull:
            logger.warning("Inbox event %s for user %s dropped", event["type"], user_pk)

    transaction.on_commit(send)


def inbox_message_send(
    *,
    sender: AbstractBaseUser,
    to: str,
    text: str,
    station_slug: str | None = None,
) -> InboxMessage:
    """Store a message from ``sender`` to the user called ``to``; deliver it.

    ``text`` must be trimmed and within limits already. With
    ``station_slug`` the message is a shoutout, which only a DJ of that
    station may send. A message to someone who has blocked the sender is
    stored hidden and delivered to nobody; the caller cannot tell.
    """
    recipient = user_get(to)
    station = None
    if station_slug is not None:
        station = Station.objects.filter(slug=station_slug, djs=sender).first()
        if station is None:
            raise NotStationDj(station_slug)
    with transaction.atomic():
        hidden = Block.objects.filter(blocker=recipient, blocked=sender).exists()
        message = InboxMessage.objects.create(
            sender=sender,
            recipient=recipient,
            text=text,
            kind=InboxMessage.Kind.SHOUTOUT if station else InboxMessage.Kind.MESSAGE,
            station=station,
            hidden=hidden,
        )
        if not hidden:
            event = {"type": INBOX_MESSAGE, "message": inbox_message_as_dict(message)}
            _notify_on_commit(recipient.pk, event)
    return message


def inbox_messages_mark_read(*, user: AbstractBaseUser, ids: list[int]) -> list[int]:
    """Mark read those of ``ids`` that are messages to ``user``; tell them all.

    Other ids are ignored. Returns the ids of ``user``'s messages among
    ``ids``, including those read before, which every connection of
    ``user`` receives as ``inbox.read``.
    """
    with transaction.atomic():
        own = InboxMessage.objects.filter(recipient=user, hidden=False, pk__in=ids)
        own_ids = sorted(own.values_list("pk", flat=True))
        own.filter(read_at=None).update(read_at=timezone.now())
        _notify_on_commit(user.pk, {"type": INBOX_READ, "ids": own_ids})
    return own_ids


def block_create(*, blocker: AbstractBaseUser, username: str) -> AbstractBaseUser:
    """``blocker`` receives nothing more from the user called ``username``."""
    blocked = user_get(username)
    Block.objects.get_or_create(blocker=blocker, blocked=blocked)
    return blocked


def block_delete(*, blocker: AbstractBaseUser, username: str) -> AbstractBaseUser:
    """Undo :func:`block_create`; nothing happens if there was no block."""
    blocked = user_get(username)
    Block.objects.filter(blocker=blocker, blocked=blocked).delete()
    return blocked


ainbox_message_send = database_sync_to_async(inbox_message_send)
ainbox_messages_mark_read = database_sync_to_async(inbox_messages_mark_read)
ablock_create = database_sync_to_async(block_create)
ablock_delete = database_sync_to_async(block_delete)
