"""Chat in the station room: the shape of its messages.

A chat message is stored first (``services.achat_message_create``) and sent
to the station's clients only once the transaction has committed, from the
event loop, the way ``now_playing`` is: through the station bus and each
worker's hub.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from radio.protocol import CHAT

from .models import ChatMessage


def chat_message_as_dict(message: ChatMessage) -> dict[str, Any]:
    """``{"type": "chat", ...}`` as clients get it; needs ``message.user``."""
    return chat_as_dict(
        id=message.pk,
        username=message.user.get_username(),
        text=message.text,
        by_dj=message.by_dj,
        created_at=message.created_at,
    )


def chat_as_dict(
    *, id: int, username: str, text: str, by_dj: bool, created_at: datetime
) -> dict[str, Any]:
    """``{"type": "chat", ...}`` from a message's stored fields."""
    return {
        "type": CHAT,
        "id": id,
        "user": username,
        "text": text,
        "dj": by_dj,
        "ts": created_at.astimezone(UTC).isoformat(),
    }
