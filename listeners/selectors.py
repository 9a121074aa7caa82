"""Reading the private inbox, for the inbox consumer."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from django.contrib.auth.models import AbstractBaseUser

from radio.protocol import INBOX_MAX_UNREAD, INBOX_MESSAGE

from .models import InboxMessage


def inbox_message_as_dict(message: InboxMessage) -> dict[str, Any]:
    """``message`` as ``inbox.message`` carries it (docs/PROTOCOL.md).

    Reads ``sender``, ``recipient`` and ``station``: select them with the
    message, or assign them, to avoid a query each.
    """
    return {
        "type": INBOX_MESSAGE,
        "id": message.pk,
        "from": _sender_name(message),
        "to": message.recipient.get_username(),
        "text": message.text,
        "ts": message.created_at.isoformat(),
        "kind": message.kind,
        "station": message.station.slug if message.station_id else None,
    }


def _sender_name(message: InboxMessage) -> str:
    """The sender's username; for a station's notice the station's name."""
    if message.sender_id:
        return message.sender.get_username()
    # A notice whose station has since been deleted is from nobody known.
    return message.station.name if message.station_id else ""


def inbox_unread(user: AbstractBaseUser) -> list[dict[str, Any]]:
    """The oldest ``INBOX_MAX_UNREAD`` unread messages to ``user``, oldest first."""
    messages = (
        InboxMessage.objects.filter(recipient=user, read_at=None, hidden=False)
        .select_related("sender", "recipient", "station")
        .order_by("created_at", "id")[:INBOX_MAX_UNREAD]
    )
    return [inbox_message_as_dict(message) for message in messages]


ainbox_unread = database_sync_to_async(inbox_unread)
