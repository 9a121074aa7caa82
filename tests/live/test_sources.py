"""DJs go live from desktop encoders on the source ports of a real daphne:
real ffmpeg, ezstream (libshout, as Mixxx), curl and a raw Shoutcast v1 client."""

from __future__ import annotations

import asyncio
import base64
import json
import statistics
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.live.conftest import DJ, LISTENER, OTHER_DJ, STATION, sqlite_installation
from tests.live.test_broadcast import go_live, join
from tests.live.test_security import WorkerProbe
from tests.support.audio import decoded_mono, decoded_seconds, frequencies, make_tone
from tests.support.clients import Received, listen, next_message

pytestmark = pytest.mark.live

TONE_SECONDS = 4.0
# A station whose AutoDJ plays while no source is live.
AUTODJ_STATION = "auto"
# How long after its source stops the station goes off air: the grace.
GRACE_S = 2.0
HEADER_TIMEOUT_S = 1.0
MAX_PENDING = 4
# Long enough for a source that runs to the end of a tone, and its grace.
SOURCE_TIMEOUT_S = TONE_SECONDS + GRACE_S + 10
BIG_HEADER = "X-Filler: " + "a" * 9000


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    deployment = sqlite_installation(
        tmp_path_factory,
        RADIO_DJ_RECONNECT_GRACE_SECONDS=str(GRACE_S),
        RADIO_SOURCE_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT_S),
        RADIO_MAX_PENDING_SOURCES=str(MAX_PENDING),
    )
    yield deployment
    deployment.stop()


@pytest.fixture(scope="module")
def worker(deployment):
    return deployment.start_worker()


@pytest.fixture(scope="module")
def probe(worker):
    return WorkerProbe(worker)


@pytest.fixture(scope="module")
def tones(tmp_path_factory) -> dict[str, Path]:
    """The same tone in each format a source may send."""
    folder = tmp_path_factory.mktemp("sources")
    seconds = TONE_SECONDS
    return {
        "mp3": make_tone(folder / "tone.mp3", seconds=seconds),
        "mp3-320": make_tone(folder / "loud.mp3", seconds=seconds, bitrate="320k"),
        "aac": make_tone(
            folder / "tone.aac", seconds=seconds, codec="aac", container="adts"
        ),
        "opus": make_tone(
            folder / "tone.opus", seconds=seconds, codec="libopus", sample_rate=48000,
            container="ogg",
        ),
    }  # fmt: skip


def icecast_url(worker, user: tuple[str, str] = DJ, mount: str = f"/{STATION}") -> str:
    return f"icecast://{user[0]}:{user[1]}@127.0.0.1:{worker.source_port}{mount}"


def ffmpeg_source(path: Path, url: str, *options: str) -> subprocess.Popen:
    """ffmpeg sending ``path`` at the pace it plays, copied as it is."""
    return subprocess.Popen(
        ["ffmpeg", "-nostdin", "-v", "error", "-re", "-i", str(path), "-c", "copy",
         *options, url],
        stderr=subprocess.PIPE,
    )  # fmt: skip


async def hear_broadcast(worker, start_source) -> tuple[Received, bytes]:
    """What a WebSocket listener and a ``stream.mp3`` listener hear of the
    broadcast ``start_source()`` begins, until the station goes off air."""
    socket, hello = await join(worker)
    assert hello["on_air"] is False
    stream_reader, stream_writer = await open_stream(worker)
    source = start_source()
    try:
        async with asyncio.timeout(SOURCE_TIMEOUT_S):
            received = await listen(socket, Received(), until="off_air")
            stream = await read_at_least(stream_reader, len(received.mp3))
    finally:
        await socket.close()
        stream_writer.close()
        stop_source(source)
    return received, stream


async def open_stream(worker):
    reader, writer = await asyncio.open_connection("127.0.0.1", worker.port)
    path = f"/stations/{STATION}/stream.mp3"
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return reader, writer


async def read_at_least(reader, size: int) -> bytes:
    """At least ``size`` bytes of the chunked body of a stream.

    daphne sends the response's head with its first audio.
    """
    await reader.readuntil(b"\r\n\r\n")
    body = bytearray()
    while len(body) < size:
        chunk_size = int((await reader.readline()).strip(), 16)
        body += await reader.readexactly(chunk_size)
        await reader.readexactly(2)
    return bytes(body)


def read_status(worker) -> dict:
    with urllib.request.urlopen(
        f"{worker.http_url}/stations/{STATION}/status.json", timeout=5
    ) as response:
        return json.load(response)


def stop_source(source) -> None:
    if isinstance(source, subprocess.Popen):
        if source.poll() is None:
            source.kill()
        source.wait()


def assert_heard_the_tone(received: Received, stream: bytes) -> None:
    on_air = received.of_type("on_air")[0]
    assert on_air["on_air"] is True and on_air["broadcast"]["dj"] == DJ[0]
    assert decoded_seconds(received.mp3) == pytest.approx(TONE_SECONDS, rel=0.05)
    assert stream == received.mp3
    seqs = received.seqs
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))


@pytest.mark.parametrize(
    ("tone", "options"),
    [
        ("mp3", ["-f", "mp3"]),
        ("mp3", ["-f", "mp3", "-legacy_icecast", "1"]),
        ("mp3-320", ["-f", "mp3"]),
        ("aac", ["-f", "adts"]),
        ("opus", ["-f", "ogg"]),
    ],
    ids=["mp3-put", "mp3-source", "mp3-other-bitrate", "aac", "ogg-opus"],
)
async def test_ffmpeg_goes_live_and_listeners_hear_it(
    worker, probe, tones, tone, options
):
    """ffmpeg's icecast:// (PUT, or SOURCE with -legacy_icecast) reaches
    listeners whole; ffmpeg labels everything audio/mpeg, so the bytes decide."""
    received, stream = await hear_broadcast(
        worker, lambda: ffmpeg_source(tones[tone], icecast_url(worker), *options)
    )
    assert_heard_the_tone(received, stream)
    assert await probe.settles_to(clients=0, listeners=0)


async def test_curl_with_expect_100_and_a_chunked_body_goes_live(worker, tones):
    """curl -T - sends a chunked PUT and waits for 100 Continue."""

    def start():
        paced = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-v", "error", "-re", "-i", str(tones["mp3"]),
             "-c", "copy", "-f", "mp3", "-"],
            stdout=subprocess.PIPE,
        )  # fmt: skip
        curl = subprocess.Popen(
            ["curl", "-sS", "-T", "-", "-H", "Expect: 100-continue",
             "-H", "Content-Type: audio/mpeg", "-u", f"{DJ[0]}:{DJ[1]}",
             f"http://127.0.0.1:{worker.source_port}/{STATION}.mp3"],
            stdin=paced.stdout, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        paced.stdout.close()
        return curl

    received, stream = await hear_broadcast(worker, start)
    assert_heard_the_tone(received, stream)


async def test_a_shoutcast_v1_source_goes_live_with_user_and_password(worker, tones):
    """Port + 1: ``user:password:#slug`` (the DJ has two stations), OK2,
    icy-* headers, then audio."""
    audio = tones["mp3"].read_bytes()

    async def shoutcast() -> None:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", worker.source_port + 1
        )
        writer.write(f"{DJ[0]}:{DJ[1]}:#{STATION}\r\n".encode())
        assert await reader.readuntil(b"\r\n\r\n") == b"OK2\r\nicy-caps:11\r\n\r\n"
        writer.write(
            b"icy-name:Shoutcast Hour\r\nicy-genre:Tones\r\nicy-br:128\r\n\r\n"
        )
        await send_paced(writer, audio)
        writer.close()

    task = None

    def start():
        nonlocal task
        task = asyncio.create_task(shoutcast())

    received, stream = await hear_broadcast(worker, start)
    await task
    assert_heard_the_tone(received, stream)
    broadcast = received.of_type("on_air")[0]["broadcast"]
    assert (broadcast["name"], broadcast["genre"]) == ("Shoutcast Hour", "Tones")


async def send_paced(writer, audio: bytes, *, bitrate_kbps: int = 128) -> None:
    """Write MP3 ``audio`` in 100 ms pieces at the pace it plays."""
    loop = asyncio.get_running_loop()
    piece = bitrate_kbps * 1000 // 8 // 10
    started = loop.time()
    for index, offset in enumerate(range(0, len(audio), piece)):
        writer.write(audio[offset : offset + piece])
        await writer.drain()
        await asyncio.sleep(max(0.0, started + (index + 1) / 10 - loop.time()))


# --- Titles ----------------------------------------------------------------


def update_title(worker, query: str, port: int) -> str:
    """Send Icecast's metadata update with curl; its XML answer."""
    url = (
        f"http://127.0.0.1:{port}/admin/metadata?mode=updinfo&mount=/{STATION}&{query}"
    )
    result = subprocess.run(
        ["curl", "-sS", "-u", f"{DJ[0]}:{DJ[1]}", url],
        capture_output=True, check=True, text=True,
    )  # fmt: skip
    return result.stdout


@pytest.mark.parametrize("port", ["source", "main"])
@pytest.mark.parametrize(
    ("query", "title", "artist"),
    [
        ("song=Caf%E9%20del%20Mar", "Café del Mar", ""),
        (
            "charset=UTF-8&song=Sigur%20R%C3%B3s%20-%20Hopp%C3%ADpolla",
            "Hoppípolla",
            "Sigur Rós",
        ),
    ],
    ids=["latin-1", "utf-8"],
)
async def test_titles_sent_as_icecast_takes_them_reach_listeners(
    worker, tones, query, title, artist, port
):
    """``/admin/metadata`` on the source port or the main site: Latin-1
    unless a charset says otherwise; the title goes to listeners at the next
    packet."""
    socket, _ = await join(worker)
    source = ffmpeg_source(tones["mp3"], icecast_url(worker), "-f", "mp3")
    try:
        await next_message(socket, "on_air")
        port_number = worker.source_port if port == "source" else worker.port
        answer = await asyncio.to_thread(update_title, worker, query, port_number)
        assert "<return>1</return>" in answer
        now_playing = await next_message(socket, "now_playing")
        assert (now_playing["title"], now_playing["artist"]) == (title, artist)
        assert now_playing["source"] == "live"
    finally:
        stop_source(source)
        await socket.close()
    await wait_off_air(worker)


async def wait_off_air(worker) -> None:
    socket, hello = await join(worker)
    if hello["on_air"]:
        async with asyncio.timeout(SOURCE_TIMEOUT_S):
            await listen(socket, Received(), until="off_air")
    await socket.close()


async def test_ezstream_goes_live_and_its_titles_mark_where_each_track_starts(
    worker, tmp_path
):
    """ezstream (libshout, as Mixxx) plays two tagged tracks; each title
    comes with the seq where that track's tone begins."""
    low = make_tone(
        tmp_path / "low.mp3",
        seconds=3,
        frequency=440,
        tags={"artist": "Low Band", "title": "First"},
    )
    high = make_tone(
        tmp_path / "high.mp3", seconds=3, frequency=990,
        tags={"artist": "High Band", "title": "Second"},
    )  # fmt: skip
    playlist = tmp_path / "playlist.m3u"
    playlist.write_text(f"{low}\n{high}\n")
    config = tmp_path / "ezstream.xml"
    config.write_text(
        EZSTREAM_CONFIG.format(port=worker.source_port, playlist=playlist)
    )
    config.chmod(0o600)

    socket, _ = await join(worker)
    source = subprocess.Popen(["ezstream", "-c", str(config)], stderr=subprocess.PIPE)
    try:
        async with asyncio.timeout(SOURCE_TIMEOUT_S + 3):
            received = await listen(socket, Received(), until="off_air")
    finally:
        stop_source(source)
        await socket.close()

    titles = [
        (m["title"], m["artist"], m["seq"]) for m in received.of_type("now_playing")
    ]
    assert [(title, artist) for title, artist, _ in titles] == [
        ("First", "Low Band"),
        ("Second", "High Band"),
    ]
    second_seq = titles[1][2]
    before = b"".join(f for seq, _, f, _ in received.audio if seq < second_seq)
    after = b"".join(f for seq, _, f, _ in received.audio if seq >= second_seq)
    assert decoded_seconds(before) == pytest.approx(3.0, abs=0.3)
    # The first windows of a track hold the encoder's padding.
    assert statistics.median(frequencies(decoded_mono(after))[:5]) == pytest.approx(
        990, rel=0.05
    )


EZSTREAM_CONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<ezstream>
  <servers><server>
    <protocol>HTTP</protocol><hostname>127.0.0.1</hostname><port>{port}</port>
    <user>dj</user><password>dj-password-1</password><tls>None</tls>
    <reconnect_attempts>0</reconnect_attempts>
  </server></servers>
  <streams><stream>
    <mountpoint>/live</mountpoint><format>MP3</format>
    <stream_name>ezstream test</stream_name>
  </stream></streams>
  <intakes><intake>
    <type>playlist</type><filename>{playlist}</filename><stream_once>Yes</stream_once>
  </intake></intakes>
</ezstream>
"""


# --- Refusals ----------------------------------------------------------------


async def request(worker, head: str, *, local: str, port: int | None = None) -> bytes:
    """Send a request head from ``local`` (an address of 127/8: each test's
    failures count against its own) and read the answer to its end."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port or worker.source_port, local_addr=(local, 0)
    )
    writer.write(head.encode("latin-1"))
    async with asyncio.timeout(HEADER_TIMEOUT_S + 5):
        answer = await reader.read()
    writer.close()
    return answer


def put(
    mount: str = f"/{STATION}", user: tuple[str, str] | None = DJ, *extra: str
) -> str:
    lines = [f"PUT {mount} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: audio/mpeg"]
    if user:
        token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
        lines.append(f"Authorization: Basic {token}")
    return "\r\n".join([*lines, *extra]) + "\r\n\r\n"


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def header_of(answer: bytes, name: str) -> str | None:
    head = answer.split(b"\r\n\r\n")[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.lower() == name.lower():
            return value.strip()
    return None


async def test_no_credentials_get_a_401_with_the_challenge_and_allow(worker, probe):
    answer = await request(worker, put(user=None), local="127.0.0.11")
    assert status_of(answer) == 401
    assert header_of(answer, "WWW-Authenticate").startswith("Basic realm=")
    assert header_of(answer, "Allow") == "GET, PUT, OPTIONS, SOURCE"
    assert await probe.settles_to(clients=0, listeners=0)


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (put(user=(DJ[0], "wrong")), 401),
        (put(user=LISTENER), 403),
        (put(mount="/no-such-station"), 404),
        (put(mount="/live/deeper"), 404),
        ("OPTIONS * HTTP/1.1\r\n\r\n", 405),
        ("GET /admin/!POKE HTTP/1.0\r\n\r\n", 405),
        ("HELLO THERE\r\n\r\n", 400),
        (put(f"/{STATION}", DJ, BIG_HEADER), 431),
    ],
    ids=["wrong-password", "not-a-dj", "unknown-mount", "not-a-mount", "options",
         "poke", "garbage", "headers-too-long"],
)  # fmt: skip
async def test_refusals_have_their_status_and_leave_nothing_behind(
    worker, probe, head, status
):
    answer = await request(worker, head, local="127.0.0.12")
    assert status_of(answer) == status
    assert await probe.settles_to(clients=0, listeners=0)
    assert (await asyncio.to_thread(read_status, worker))["on_air"] is False


async def test_a_source_is_refused_while_another_dj_is_live(worker, probe):
    """403 "Mountpoint in use" at once (BUTT retries on it), never a hang."""
    dj = await go_live(worker, "audio/mpeg")
    try:
        answer = await request(worker, put(), local="127.0.0.13")
    finally:
        await dj.close()
    assert status_of(answer) == 403
    assert b"Mountpoint in use" in answer
    await wait_off_air(worker)
    assert await probe.settles_to(clients=0, listeners=0)


async def test_a_second_source_is_refused_while_one_is_live(worker, tones):
    socket, _ = await join(worker)
    source = ffmpeg_source(tones["mp3"], icecast_url(worker), "-f", "mp3")
    try:
        await next_message(socket, "on_air")
        answer = await request(worker, put(user=OTHER_DJ), local="127.0.0.16")
    finally:
        stop_source(source)
        await socket.close()
    assert status_of(answer) == 403
    assert b"Mountpoint in use" in answer
    await wait_off_air(worker)


async def test_the_shoutcast_port_refuses_a_wrong_password_and_speaks_http(worker):
    shoutcast = worker.source_port + 1
    wrong = await request(
        worker, f"{DJ[0]}:wrong:#{STATION}\r\n", local="127.0.0.17", port=shoutcast
    )
    assert wrong == b"invalid password\r\n"
    probe = await request(
        worker, "GET /admin/!POKE HTTP/1.0\r\n\r\n", local="127.0.0.17", port=shoutcast
    )
    assert status_of(probe) == 405
    title = await request(
        worker,
        f"GET /admin.cgi?pass={DJ[0]}:wrong&mode=updinfo&song=x HTTP/1.0\r\n\r\n",
        local="127.0.0.17",
        port=shoutcast,
    )
    assert status_of(title) == 401
    assert b"<return>0</return>" in title


async def test_a_half_sent_head_is_closed_at_the_header_timeout(worker):
    reader, writer = await asyncio.open_connection("127.0.0.1", worker.source_port)
    writer.write(b"PUT /live HTTP/1.1\r\nAuthoriz")
    async with asyncio.timeout(HEADER_TIMEOUT_S + 5):
        answer = await reader.read()
    writer.close()
    assert status_of(answer) == 408


async def test_sockets_that_have_not_logged_in_are_capped_per_worker(worker):
    """Past RADIO_MAX_PENDING_SOURCES silent sockets the next gets a 503; a
    slot is free again once one of them is closed at the header timeout."""
    silent = [
        await asyncio.open_connection("127.0.0.1", worker.source_port)
        for _ in range(MAX_PENDING)
    ]
    try:
        turned_away = await request(worker, put(), local="127.0.0.19")
        async with asyncio.timeout(HEADER_TIMEOUT_S + 5):
            for reader, _ in silent:
                assert status_of(await reader.read()) == 408
        let_in = await request(worker, put(user=None), local="127.0.0.19")
    finally:
        for _, writer in silent:
            writer.close()
    assert status_of(turned_away) == 503
    assert status_of(let_in) == 401


async def test_after_ten_failures_an_address_is_refused_even_with_the_password(worker):
    """Guessing at other accounts blocks the address, not the DJ elsewhere."""
    for _ in range(10):
        wrong = await request(worker, put(user=("nobody", "guess")), local="127.0.0.14")
        assert status_of(wrong) == 401
    refused = await request(worker, put(), local="127.0.0.14")
    assert status_of(refused) == 403
    assert b"Too many failed logins" in refused
    other = await request(worker, put(user=LISTENER), local="127.0.0.15")
    assert status_of(other) == 403
    assert b"Too many failed logins" not in other


# --- Reconnecting, and several workers --------------------------------------


async def test_a_source_that_reconnects_within_the_grace_carries_on(worker, tones):
    """The encoder drops and comes back: one broadcast, seq unbroken."""
    audio = tones["mp3"].read_bytes()
    half = len(audio) // 2 // 418 * 418
    socket, _ = await join(worker)
    received = Received()
    reader_task = asyncio.create_task(listen(socket, received, until="off_air"))

    for piece in (audio[:half], audio[half:]):
        reader, writer = await asyncio.open_connection("127.0.0.1", worker.source_port)
        writer.write(put().encode())
        head = await reader.readuntil(b"\r\n\r\n")
        assert status_of(head) == 200
        await send_paced(writer, piece)
        writer.transport.abort()

    async with asyncio.timeout(SOURCE_TIMEOUT_S):
        await reader_task
    await socket.close()
    assert [m["on_air"] for m in received.of_type("on_air")] == [True, False]
    seqs = received.seqs
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert decoded_seconds(received.mp3) == pytest.approx(TONE_SECONDS, rel=0.05)


@pytest.fixture(scope="module")
def two_workers(shared_deployment, tmp_path_factory):
    """Two workers on Redis and PostgreSQL; their AutoDJ plays one station."""
    shared_deployment.manage(
        "createstation", AUTODJ_STATION, "--name", "Auto", "--dj", DJ[0]
    )
    track = tmp_path_factory.mktemp("library") / "track.mp3"
    make_tone(track, seconds=TONE_SECONDS, frequency=660)
    shared_deployment.manage("addtrack", AUTODJ_STATION, str(track))
    return shared_deployment.start_worker(), shared_deployment.start_worker()


async def test_when_a_source_does_not_come_back_the_autodj_is_back_within_1_s(
    two_workers, tones
):
    worker = two_workers[0]
    socket, hello = await join(worker, station=AUTODJ_STATION)
    if hello["source"] != "autodj":
        await on_air_from(socket, "autodj")
    reader, writer = await asyncio.open_connection("127.0.0.1", worker.source_port)
    writer.write(put(mount=f"/{AUTODJ_STATION}").encode())
    assert status_of(await reader.readuntil(b"\r\n\r\n")) == 200
    sending = asyncio.create_task(send_paced(writer, tones["mp3"].read_bytes()))
    await on_air_from(socket, "live")
    sending.cancel()
    writer.transport.abort()
    loop = asyncio.get_running_loop()
    dropped_at = loop.time()
    await on_air_from(socket, "autodj")
    assert loop.time() - dropped_at < 1.0
    await socket.close()


async def on_air_from(socket, source: str) -> None:
    """Read ``socket`` until the station is on air from ``source``."""
    async with asyncio.timeout(SOURCE_TIMEOUT_S):
        while (await next_message(socket, "on_air"))["source"] != source:
            pass


async def test_workers_share_the_source_port_and_both_hear_the_source(
    two_workers, tones
):
    """Whichever worker the kernel gives the source to, listeners on both hear it."""
    first, second = two_workers
    listeners = [await join(first), await join(second)]
    source = ffmpeg_source(tones["mp3"], icecast_url(first), "-f", "mp3")
    try:
        heard = await asyncio.gather(
            *(
                asyncio.wait_for(
                    listen(socket, Received(), until="off_air"), SOURCE_TIMEOUT_S
                )
                for socket, _ in listeners
            )
        )
    finally:
        stop_source(source)
        for socket, _ in listeners:
            await socket.close()
    for received in heard:
        assert decoded_seconds(received.mp3) == pytest.approx(TONE_SECONDS, rel=0.05)
    assert heard[0].seqs == heard[1].seqs
