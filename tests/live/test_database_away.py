"""PostgreSQL goes away under a real daphne: chat and the inbox say so,
store nothing half, and work again once it is back; audio never stops.

The worker reaches PostgreSQL through a proxy the test cuts, so the machine's
server, which other tests use, is never stopped.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import urllib.parse

import psycopg
import pytest

from tests.live.conftest import DJ, FAN, LISTENER, STATION, STRANGER
from tests.live.test_broadcast import go_live
from tests.live.test_chat_and_inbox import open_inbox
from tests.support.audio import make_tone
from tests.support.clients import (
    Timeline,
    connect,
    next_message,
    record,
    sign_in,
    stream_file,
)
from tests.support.proxy import TcpProxy

pytestmark = [pytest.mark.live, pytest.mark.redis, pytest.mark.postgres]

# How long the database stays away once chat and the inbox have been refused.
OUTAGE_S = 3.0
# The DJ's broadcast covers the whole outage and what comes around it.
BROADCAST_S = 10
# The longest a listener may wait between two audio messages, outage or not.
MAX_AUDIO_GAP_MS = 1500
# A reply that takes longer than this would leave a user wondering.
ANSWER_S = 10


@pytest.fixture(scope="module")
def database_proxy(postgres_url):
    parts = urllib.parse.urlsplit(postgres_url)
    proxy = TcpProxy((parts.hostname, parts.port or 5432))
    yield proxy
    proxy.close()


@pytest.fixture(scope="module")
def worker(shared_deployment, database_proxy):
    """A worker whose every database connection goes through the proxy."""
    parts = urllib.parse.urlsplit(shared_deployment.env["DATABASE_URL"])
    credentials = parts.netloc.rpartition("@")[0]
    through_proxy = parts._replace(
        netloc=f"{credentials}@127.0.0.1:{database_proxy.port}"
    )
    return shared_deployment.start_worker(
        DATABASE_URL=urllib.parse.urlunsplit(through_proxy)
    )


def stored(deployment, *texts: str) -> int:
    """How many chat lines and inbox messages hold one of ``texts``."""
    with psycopg.connect(deployment.env["DATABASE_URL"]) as database:
        [count] = database.execute(
            "SELECT (SELECT count(*) FROM stations_chatmessage WHERE text = ANY(%s))"
            " + (SELECT count(*) FROM listeners_inboxmessage WHERE text = ANY(%s))",
            [list(texts), list(texts)],
        ).fetchone()
    return count


async def send(socket, message: dict) -> None:
    await socket.send(json.dumps(message))


async def test_chat_and_inbox_answer_unavailable_while_the_database_is_away(
    worker, shared_deployment, database_proxy, tmp_path
):
    """While PostgreSQL is away chat and inbox messages get ``unavailable``
    on open sockets, are neither stored nor delivered, and go through as
    soon as it is back; the broadcast plays on without a gap."""
    tone = make_tone(tmp_path / "tone.mp3", seconds=BROADCAST_S).read_bytes()
    # Station sockets queue all the audio they are sent, unread, so that
    # closing them does not wait for a close frame behind it.
    talker = await connect(
        f"{worker.ws_url}/ws/stations/{STATION}/",
        cookie=sign_in(worker.http_url, *LISTENER),
        max_queue=None,
    )
    await next_message(talker, "chat.history")
    sender, _ = await open_inbox(worker, FAN)
    recipient, _ = await open_inbox(worker, STRANGER)
    listener = await connect(f"{worker.ws_url}/ws/stations/{STATION}/", max_queue=None)
    dj = await go_live(worker, "audio/mpeg", DJ)
    broadcasting = asyncio.create_task(stream_file(dj, tone, bitrate_kbps=128))
    timeline = Timeline()
    listening = asyncio.create_task(record(listener, timeline, seconds=BROADCAST_S - 2))
    # The outage starts once the listener hears the broadcast.
    async with asyncio.timeout(ANSWER_S):
        while not timeline.audio():
            await asyncio.sleep(0.05)

    database_proxy.cut()
    cut_at = len(timeline.items)
    async with asyncio.timeout(ANSWER_S):
        await send(talker, {"type": "chat", "text": "lost line"})
        chat_refused = await next_message(talker, "error")
        await send(sender, {"type": "inbox.send", "to": STRANGER[0], "text": "lost"})
        inbox_refused = await next_message(sender, "error")
    await asyncio.sleep(OUTAGE_S)
    database_proxy.restore()
    restored_at = len(timeline.items)
    restored = time.monotonic()
    async with asyncio.timeout(ANSWER_S):
        await send(talker, {"type": "chat", "text": "kept line"})
        heard = await next_message(talker, "chat")
        chat_healed_s = time.monotonic() - restored
        await send(sender, {"type": "inbox.send", "to": STRANGER[0], "text": "kept"})
        await next_message(sender, "inbox.sent")
        delivered = await next_message(recipient, "inbox.message")
    await broadcasting
    await listening
    await send(dj, {"type": "stop"})
    await asyncio.gather(
        *(socket.close() for socket in (talker, sender, recipient, listener, dj))
    )

    for refusal in (chat_refused, inbox_refused):
        assert refusal["code"] == "unavailable", refusal
    assert (heard["text"], delivered["text"]) == ("kept line", "kept")
    assert chat_healed_s < ANSWER_S
    assert [chat["text"] for _, chat in timeline.messages("chat")] == ["kept line"]
    assert (
        stored(shared_deployment, "lost line") + stored(shared_deployment, "lost") == 0
    )
    during = timeline.between(cut_at, restored_at)
    assert len(during) > 0, "no audio while the database was away"
    audio = timeline.audio()
    seqs = [seq for _, seq, _ in audio]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "audio has gaps"
    arrivals = [arrived for arrived, _, _ in audio]
    assert max(b - a for a, b in itertools.pairwise(arrivals)) < MAX_AUDIO_GAP_MS
