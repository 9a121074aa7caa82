"""The channel-layer group of a user's inbox connections."""

from __future__ import annotations


def group_name(user_pk: int) -> str:
    """The channel-layer group of every connection of one user.

    Keyed on the primary key: usernames may hold ``@`` and ``+``, which group
    names may not (docs/PROTOCOL.md, /ws/inbox/).
    """
    return f"inbox.{user_pk}"
