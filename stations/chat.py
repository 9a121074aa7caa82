"""Chat in the station room: the shape of its messages.

A chat message is stored first (``services.chat_message_create``) and sent
to the station's clients only once the transaction has committed, the way
``now_playing`` is: through the station bus and each worker's hub.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from .models import ChatMessage

# Server-to-client message types.
CHAT = "chat"
CHAT_HISTORY = "chat.history"
CHAT_DELETED = "chat.deleted"

# How many recent messages a joining listener gets in ``chat.history``.
CHAT_HISTORY_MESSAGES = 50


def chat_message_as_dict(message: ChatMessage) -> dict[str, Any]:
    """``{"type": "chat", ...}`` as clients get it; needs ``message.user``."""
    return {
        "type": CHAT,
        "id": message.pk,
        "user": message.user.get_username(),
        "text": message.text,
        "ts": message.created_at.astimezone(UTC).isoformat(),
    }
