"""Names and limits of the private inbox (``/ws/inbox/``)."""

from __future__ import annotations

# Longest message, in characters after trimming (``InboxMessage.text``).
MAX_TEXT_CHARS = 1000
# Most unread messages sent on connect, oldest first; older ones wait until
# these are read.
MAX_UNREAD = 200
# Most ids one ``inbox.read`` may carry.
MAX_READ_IDS = 200

# Error code of {"type": "error"} beyond those of ``stations.protocol``.
UNKNOWN_USER = "unknown_user"

# Message types, client to server and server to client.
SEND = "inbox.send"
SENT = "inbox.sent"
READ = "inbox.read"
BLOCK = "inbox.block"
BLOCKED = "inbox.blocked"
UNBLOCK = "inbox.unblock"
UNBLOCKED = "inbox.unblocked"
MESSAGE = "inbox.message"
UNREAD = "inbox.unread"


def group_name(user_pk: int) -> str:
    """The channel-layer group of every connection of one user.

    Keyed on the primary key: usernames may hold ``@`` and ``+``, which group
    names may not (docs/PROTOCOL.md, /ws/inbox/).
    """
    return f"inbox.{user_pk}"
