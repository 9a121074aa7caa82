"""The webhooks' way to the database from the event loop."""

from __future__ import annotations

from collections.abc import Callable

from channels.db import database_sync_to_async


def off_the_request_thread(function: Callable) -> Callable:
    """``database_sync_to_async`` in a thread of the loop's pool rather
    than the one thread that Django's views and the chat share: a burst of
    events for many webhooks never makes a chat message wait in line."""
    return database_sync_to_async(function, thread_sensitive=False)
