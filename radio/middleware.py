"""ASGI middleware of the project."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Where the server's own ``send`` is kept in the scope.
SERVER_SEND = "radio.server_send"


class ServerSendMiddleware:
    """Keeps the server's own ``send`` in the scope as ``radio.server_send``.

    Middleware further in (sessions) wraps ``send``; the station streams
    need the server's, to write audio without a detour and to learn when a
    client stops reading (``stations/streaming/transport.py``).
    """

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        return await self.inner({**scope, SERVER_SEND: send}, receive, send)


@dataclass
class _Kept:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    stored_at: float
    expires_at: float


class SharedCache:
    """Answers repeated public GETs itself, as nginx's ``proxy_cache`` would.

    Widgets poll ``/api/nowplaying`` by the thousand, and Django's request
    machinery costs about 3 ms a request even when the view answers from
    memory (docs/PERFORMANCE.md). An answer that says ``Cache-Control:
    public, max-age=N``, sets no cookie and varies by nothing is kept whole
    for N seconds by scheme, host, path and query, and given again without entering
    Django. Only GET answers are kept; HEAD is answered from them. Requests
    with credentials or a range always go through.
    """

    def __init__(
        self,
        inner,
        *,
        max_entries: int = 1000,
        max_body_bytes: int = 256 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self._max_entries = max_entries
        self._max_body_bytes = max_body_bytes
        self._clock = clock
        self._kept: dict[tuple, _Kept] = {}

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if not _may_share(scope):
            return await self.inner(scope, receive, send)
        # The scheme too, as a proxy tells it: answers hold absolute URLs.
        key = (
            scope.get("scheme"),
            scope_header(scope, b"x-forwarded-proto"),
            scope_header(scope, b"host"),
            scope["path"],
            scope.get("query_string", b""),
        )
        kept = self._kept.get(key)
        if kept is not None and kept.expires_at > self._clock():
            return await self._give(kept, scope, send)
        if scope["method"] != "GET":
            return await self.inner(scope, receive, send)
        return await self.inner(scope, receive, self._keeping(key, send))

    async def _give(self, kept: _Kept, scope: dict[str, Any], send) -> None:
        age = str(int(self._clock() - kept.stored_at)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": kept.status,
                "headers": [*kept.headers, (b"age", age)],
            }
        )
        body = b"" if scope["method"] == "HEAD" else kept.body
        await send({"type": "http.response.body", "body": body})

    def _keeping(self, key: tuple, send):
        """``send``, keeping a copy of the answer if it may be shared."""
        answer: dict[str, Any] = {}

        async def send_and_keep(message: dict[str, Any]) -> None:
            await send(message)
            if message["type"] == "http.response.start":
                max_age = _shared_max_age(message)
                if max_age:
                    answer.update(message=message, max_age=max_age, body=[], size=0)
            elif answer and message["type"] == "http.response.body":
                answer["body"].append(message.get("body", b""))
                answer["size"] += len(answer["body"][-1])
                if answer["size"] > self._max_body_bytes:
                    answer.clear()
                elif not message.get("more_body", False):
                    self._keep(key, answer)

        return send_and_keep

    def _keep(self, key: tuple, answer: dict[str, Any]) -> None:
        now = self._clock()
        if len(self._kept) >= self._max_entries:
            for stale in [
                k for k, kept in self._kept.items() if kept.expires_at <= now
            ]:
                del self._kept[stale]
        if len(self._kept) >= self._max_entries:
            del self._kept[next(iter(self._kept))]
        start = answer["message"]
        self._kept[key] = _Kept(
            status=start["status"],
            headers=list(start.get("headers", [])),
            body=b"".join(answer["body"]),
            stored_at=now,
            expires_at=now + answer["max_age"],
        )


def _may_share(scope: dict[str, Any]) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] in ("GET", "HEAD")
        and scope_header(scope, b"authorization") is None
        and scope_header(scope, b"range") is None
    )


def scope_header(scope: dict[str, Any], name: bytes) -> bytes | None:
    """The value of the request header ``name`` (lower case), if sent."""
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.strip()
    return None


def _shared_max_age(start: dict[str, Any]) -> int:
    """For how many seconds a shared cache may keep this answer; 0: not at all."""
    if start["status"] != 200:
        return 0
    directives: dict[str, str] = {}
    for name, value in start.get("headers", ()):
        name = name.lower()
        if name in (b"set-cookie", b"vary"):
            return 0
        if name == b"cache-control":
            for directive in value.decode("latin-1").lower().split(","):
                key, _, argument = directive.strip().partition("=")
                directives[key] = argument
    if (
        "public" not in directives
        or "private" in directives
        or "no-store" in directives
    ):
        return 0
    try:
        return max(0, int(directives.get("max-age", "0")))
    except ValueError:
        return 0
