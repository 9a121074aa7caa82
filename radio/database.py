"""The database connections of a worker's threads.

Consumers make their ORM calls in one long-lived thread (channels'
``database_sync_to_async``), which keeps its connection: with SQLite,
``CONN_MAX_AGE`` is None for that. Under ASGI, Django runs each HTTP
request's synchronous code in a thread of its own that ends with the
request. A connection left open there is closed only once the garbage
collector finds it (Django's connection objects are reference cycles), and
until then holds a file descriptor and SQLite's page cache: one per request.
"""

from __future__ import annotations

from django.db import connections


def close_request_connections(**kwargs: object) -> None:
    """Close what the finished request's thread opened (``request_finished``).

    A connection inside a transaction is left alone: Django's test cases
    wrap whole tests, requests included, in one.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()
