"""radio.middleware.SharedCache keeps what may be shared, for as long as it
may, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from radio.middleware import SharedCache

PUBLIC = (b"cache-control", b"public, max-age=5")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Origin:
    """An ASGI app answering each request with its count, and given headers."""

    def __init__(self, *headers: tuple[bytes, bytes], status: int = 200) -> None:
        self.headers = list(headers)
        self.status = status
        self.calls = 0
        self.chunks = 1

    async def __call__(self, scope, receive, send) -> None:
        self.calls += 1
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": self.headers,
            }
        )
        body = f"answer {self.calls}".encode()
        for index in range(self.chunks):
            last = index == self.chunks - 1
            await send(
                {"type": "http.response.body", "body": body, "more_body": not last}
            )


def scope(
    path: str = "/api/nowplaying/demo",
    *,
    method: str = "GET",
    query: bytes = b"",
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query,
        "headers": [(b"host", b"radio.example"), *headers],
    }


async def fetch(app, request: dict[str, Any]) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(request, receive, send)
    start, *bodies = sent
    return (
        start["status"],
        dict(start["headers"]),
        b"".join(message.get("body", b"") for message in bodies),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_a_public_answer_is_given_again_until_its_max_age(clock):
    origin = Origin(PUBLIC, (b"content-type", b"application/json"))
    app = SharedCache(origin, clock=clock)

    first = await fetch(app, scope())
    clock.now += 4.9
    again = await fetch(app, scope())
    clock.now += 0.2
    after = await fetch(app, scope())

    assert origin.calls == 2
    assert first[2] == again[2] == b"answer 1"
    assert again[1][b"content-type"] == b"application/json"
    assert again[1][b"age"] == b"4"
    assert b"age" not in first[1]
    assert after[2] == b"answer 2"


async def test_answers_are_kept_by_host_path_and_query(clock):
    origin = Origin(PUBLIC)
    app = SharedCache(origin, clock=clock)
    other_host = scope(headers=((b"host", b"other.example"),))
    other_host["headers"] = other_host["headers"][1:]

    bodies = [
        (await fetch(app, request))[2]
        for request in (
            scope(),
            scope("/api/nowplaying/other"),
            scope(query=b"page=2"),
            other_host,
            scope(),
        )
    ]

    assert bodies == [b"answer 1", b"answer 2", b"answer 3", b"answer 4", b"answer 1"]


async def test_answers_are_kept_by_scheme_as_a_proxy_tells_it(clock):
    origin = Origin(PUBLIC)
    app = SharedCache(origin, clock=clock)
    behind_tls = scope(headers=((b"x-forwarded-proto", b"https"),))

    bodies = [(await fetch(app, request))[2] for request in (scope(), behind_tls)]

    assert bodies == [b"answer 1", b"answer 2"]


async def test_head_is_answered_from_the_kept_get_without_a_body(clock):
    origin = Origin(PUBLIC, (b"content-length", b"8"))
    app = SharedCache(origin, clock=clock)

    await fetch(app, scope())
    status, headers, body = await fetch(app, scope(method="HEAD"))

    assert (status, body, origin.calls) == (200, b"", 1)
    assert headers[b"content-length"] == b"8"


async def test_a_body_in_several_messages_is_kept_whole(clock):
    origin = Origin(PUBLIC)
    origin.chunks = 3
    app = SharedCache(origin, clock=clock)

    await fetch(app, scope())
    _, _, body = await fetch(app, scope())

    assert body == b"answer 1" * 3
    assert origin.calls == 1


@pytest.mark.parametrize(
    "headers",
    [
        [(b"cache-control", b"public, max-age=0")],
        [(b"cache-control", b"max-age=5")],
        [(b"cache-control", b"public, private, max-age=5")],
        [(b"cache-control", b"public, no-store, max-age=5")],
        [(b"cache-control", b"public, max-age=soon")],
        [PUBLIC, (b"set-cookie", b"sessionid=1")],
        [PUBLIC, (b"vary", b"Cookie")],
        [],
    ],
)
async def test_an_answer_that_may_not_be_shared_is_not_kept(clock, headers):
    origin = Origin(*headers)
    app = SharedCache(origin, clock=clock)

    await fetch(app, scope())
    await fetch(app, scope())

    assert origin.calls == 2


async def test_only_successful_gets_are_kept(clock):
    not_found = Origin(PUBLIC, status=404)
    app = SharedCache(not_found, clock=clock)
    await fetch(app, scope())
    await fetch(app, scope())
    assert not_found.calls == 2

    origin = Origin(PUBLIC)
    app = SharedCache(origin, clock=clock)
    await fetch(app, scope(method="HEAD"))
    await fetch(app, scope(method="POST"))
    await fetch(app, scope())
    assert origin.calls == 3


@pytest.mark.parametrize("header", [b"authorization", b"range"])
async def test_requests_with_credentials_or_a_range_go_through(clock, header):
    origin = Origin(PUBLIC)
    app = SharedCache(origin, clock=clock)
    await fetch(app, scope())

    _, _, body = await fetch(app, scope(headers=((header, b"x"),)))

    assert body == b"answer 2"


async def test_a_big_body_is_not_kept(clock):
    origin = Origin(PUBLIC)
    app = SharedCache(origin, clock=clock, max_body_bytes=5)

    await fetch(app, scope())
    await fetch(app, scope())

    assert origin.calls == 2


async def test_past_its_size_it_drops_the_expired_then_the_oldest(clock):
    origin = Origin(PUBLIC)
    app = SharedCache(origin, clock=clock, max_entries=2)

    for path in ("/a", "/b", "/c"):
        await fetch(app, scope(path))
    assert origin.calls == 3
    assert (await fetch(app, scope("/a")))[2] == b"answer 4"
    assert (await fetch(app, scope("/c")))[2] == b"answer 3"


async def test_websockets_and_lifespan_go_through():
    calls = []

    async def inner(scope, receive, send):
        calls.append(scope["type"])

    app = SharedCache(inner)
    await app({"type": "websocket", "path": "/ws"}, None, None)
    await app({"type": "lifespan"}, None, None)

    assert calls == ["websocket", "lifespan"]
