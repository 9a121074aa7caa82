"""Reading a source client's request head and body (stations/sources/head.py)."""

from __future__ import annotations

import asyncio

import pytest

from stations.sources.head import (
    MAX_HEAD_BYTES,
    BadHead,
    read_body,
    read_head,
    response,
)

TIMEOUT_S = 5.0


def reader_of(data: bytes, *, eof: bool = True) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    if eof:
        reader.feed_eof()
    return reader


async def head_of(data: bytes, *, eof: bool = True, timeout_s: float = TIMEOUT_S):
    return await read_head(reader_of(data, eof=eof), timeout_s=timeout_s)


async def body_of(
    data: bytes, headers: dict[str, str], chunk_bytes: int = 4
) -> list[bytes]:
    return [
        chunk
        async for chunk in read_body(reader_of(data), headers, chunk_bytes=chunk_bytes)
    ]


async def test_a_put_request_head_is_read_with_its_headers():
    head = await head_of(
        b"PUT /demo.mp3?x=1 HTTP/1.1\r\nAuthorization: Basic eDp5\r\n"
        b"Ice-Name:  Night Shift \r\nExpect: 100-continue\r\n\r\nAUDIO"
    )
    assert (head.method, head.path, head.query) == ("PUT", "/demo.mp3", b"x=1")
    assert head.header("ice-name") == "Night Shift"
    assert head.header("Authorization") == "Basic eDp5"
    assert head.header("content-type") is None


async def test_the_legacy_source_method_with_bare_line_ends_is_read():
    head = await head_of(b"source /demo ICE/1.0\ncontent-type: audio/mpeg\n\n")
    assert (head.method, head.path) == ("SOURCE", "/demo")
    assert head.header("content-type") == "audio/mpeg"


async def test_the_query_stays_percent_encoded_bytes():
    head = await head_of(b"GET /admin/metadata?song=Caf%E9 HTTP/1.0\r\n\r\n")
    assert head.query == b"song=Caf%E9"


@pytest.mark.parametrize(
    "data",
    [
        b"\r\n",
        b"GARBAGE\r\n\r\n",
        b"PUT /demo\r\n\r\n",
        b"PUT /demo SPDY/3\r\n\r\n",
        b"PUT /demo HTTP/1.1\r\nno colon here\r\n\r\n",
        b"PUT /demo HTTP/1.1\r\nHost: x\r\n",
    ],
    ids=["empty", "one-word", "no-version", "not-http", "bad-header", "ends-early"],
)
async def test_a_malformed_head_is_a_400(data):
    with pytest.raises(BadHead) as refused:
        await head_of(data)
    assert refused.value.status == 400


async def test_headers_over_the_cap_are_a_431():
    filler = b"X-Filler: " + b"a" * 100 + b"\r\n"
    data = b"PUT /demo HTTP/1.1\r\n" + filler * (MAX_HEAD_BYTES // len(filler) + 1)
    with pytest.raises(BadHead) as refused:
        await head_of(data + b"\r\n")
    assert refused.value.status == 431


async def test_a_head_that_stops_half_way_times_out_with_a_408():
    with pytest.raises(BadHead) as refused:
        await head_of(b"PUT /demo HTTP/1.1\r\nAuthor", eof=False, timeout_s=0.05)
    assert refused.value.status == 408


async def test_a_plain_body_is_read_until_the_socket_ends():
    assert b"".join(await body_of(b"0123456789", {})) == b"0123456789"


async def test_a_body_with_a_length_stops_there():
    chunks = await body_of(b"0123456789TRAILING", {"content-length": "10"})
    assert b"".join(chunks) == b"0123456789"


async def test_a_chunked_body_is_decoded():
    data = b"5;name=x\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    chunks = await body_of(data, {"transfer-encoding": "chunked"})
    assert b"".join(chunks) == b"hello world"
    assert max(len(chunk) for chunk in chunks) <= 4


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"zz\r\nhello\r\n", BadHead),
        (b"5\r\nhel", asyncio.IncompleteReadError),
        (b"1" * 100 + b"\r\n", BadHead),
    ],
    ids=["not-hex", "cut-short", "size-line-too-long"],
)
async def test_a_bad_chunked_body_fails_clearly(data, error):
    with pytest.raises(error):
        await body_of(data, {"transfer-encoding": "chunked"})


def test_a_response_has_a_status_line_headers_and_a_body():
    answer = response(401, headers=(("Allow", "PUT"),), body=b"no")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n") == [
        b"HTTP/1.0 401 Authentication Required",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Length: 2",
        b"Allow: PUT",
    ]
    assert body == b"no"
