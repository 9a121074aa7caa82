"""Chat in the station room: group names and event shapes.

A chat message is stored first (``services.chat_message_create``) and sent
to the station's chat group only once the transaction has committed; the
consumers in that group forward it to their clients.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from .models import ChatMessage

# Server-to-client message types.
CHAT = "chat"
CHAT_HISTORY = "chat.history"
CHAT_DELETED = "chat.deleted"
# Channel-layer event types, dispatched to ``chat_message``/``chat_deleted``.
CHAT_MESSAGE_EVENT = "chat.message"
CHAT_DELETED_EVENT = "chat.deleted"

# How many recent messages a joining listener gets in ``chat.history``.
CHAT_HISTORY_MESSAGES = 50


def chat_group_name(station_id: int) -> str:
    """The channel-layer group of a station's chat (``[a-zA-Z0-9._-]``)."""
    return f"station.{station_id}.chat"


def chat_message_as_dict(message: ChatMessage) -> dict[str, Any]:
    """``{"type": "chat", ...}`` as clients get it; needs ``message.user``."""
    return {
        "type": CHAT,
        "id": message.pk,
        "user": message.user.get_username(),
        "text": message.text,
        "ts": message.created_at.astimezone(UTC).isoformat(),
    }
