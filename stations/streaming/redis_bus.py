"""The station bus over Redis, for several server processes.

Per station, Redis holds:

- ``radio:station:<id>:out``, a stream of the station's packets and events
  in order, trimmed to the last ``OUTPUT_KEEP_MS``. Each process with
  clients of the station reads it once (``XREAD BLOCK``) and fans it out
  itself, so the cost to Redis does not grow with the listener count, and a
  process that starts reading gets its first burst from the stream.
- ``radio:station:<id>:state``, a hash of ``on_air``, ``source``,
  ``now_playing`` (JSON) and ``seq``, written with each entry.
- ``radio:station:<id>:lease``, the producer's lease (JSON, with a TTL):
  its token, user, kind, whether it is suspended, and the process that
  holds it. Each process names its Redis connections after itself
  (``CLIENT SETNAME``), so that a process that died, whose connections
  Redis has dropped, can be told from one that lives.
- ``radio:station:<id>:listeners``, a hash of process id → listener count
  and the time that count expires, so a process that dies stops counting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from radio.protocol import NOW_PLAYING, ON_AIR

from .audience import Audience
from .bus import (
    LEASE_TTL_S,
    LIVE,
    OUTPUT_KEEP_MS,
    BusUnavailable,
    Claim,
    Lease,
    StationBus,
)
from .hub import StationHub, StationState
from .packets import AudioPacket, Event, now_ms

logger = logging.getLogger(__name__)

# Entries read back to build the first burst of a process.
BURST_SCAN_ENTRIES = 512
# A blocking read returns this often even when nothing comes, to notice
# a dead connection ...
READ_BLOCK_MS = 5_000
# ... and must return before the client gives up on the socket (redis-py 8
# gives up after 5 s by default).
SOCKET_TIMEOUT_S = READ_BLOCK_MS / 1000 + 5
READ_BATCH_ENTRIES = 64
# A command retries this often, this soon, then says Redis is away: the
# audio path drops what it cannot send rather than wait (redis-py's default
# retries for about 3 s).
COMMAND_RETRIES = 2
RETRY_BACKOFF_S = (0.01, 0.1)
CONNECT_TIMEOUT_S = 1.0
# A process's listener count is believed for this long after its last write.
COUNT_TTL_MS = 5_000
# A reader that cannot reach Redis tries again this often, so that
# listeners hear the station well within a second of Redis coming back.
RETRY_AFTER_ERROR_S = 0.5
# What redis-py raises when the server is away, restarting or too slow.
UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
# Every Redis connection of a process is named this and the process's id.
CLIENT_NAME_PREFIX = "radio-worker-"

# bus.claim_answer in Lua: ARGV[1] is the wanted lease as JSON, ARGV[2] its
# TTL in ms, ARGV[3] a process known to have died (or empty): the holder is
# gone if its lease names that process. Returns 0 (refused), 1 (granted) or
# 2 (resumed).
CLAIM_SCRIPT = """
local current = redis.call('GET', KEYS[1])
local answer = 1
if current then
  local held = cjson.decode(current)
  local wanted = cjson.decode(ARGV[1])
  local holder_gone = ARGV[3] ~= '' and held.worker == ARGV[3]
  answer = 0
  if wanted.kind == 'live' then
    local own = held.kind == 'live' and held.user == wanted.user
    if own and (held.suspended or holder_gone) then
      answer = 2
    elseif held.kind == 'autodj' then
      answer = 1
    end
  elseif wanted.kind == 'autodj' and held.suspended then
    answer = 1
  end
end
if answer > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return answer
"""

# Sets the lease to ARGV[2] with a TTL of ARGV[3] ms if the token matches;
# with ARGV[2] empty, deletes it; with ARGV[2] KEEP_LEASE, only sets the TTL
# (a renewal leaves a suspended lease suspended, as LocalBus does).
KEEP_LEASE = "="
UPDATE_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if not current or cjson.decode(current).token ~= ARGV[1] then
  return 0
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
elseif ARGV[2] == '=' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
"""


# Adds an entry to the output stream (KEYS[1]) and fields to the state hash
# (KEYS[2]), if ARGV[1] is empty or the token of the lease (KEYS[3]).
# ARGV[2] is the stream's MINID, ARGV[3] the number of the entry's
# field/value pairs that follow; the state's pairs come after them.
PUBLISH_SCRIPT = """
if ARGV[1] ~= '' then
  local current = redis.call('GET', KEYS[3])
  if not current or cjson.decode(current).token ~= ARGV[1] then
    return 0
  end
end
local entry_end = 3 + 2 * tonumber(ARGV[3])
redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[2], '*',
           unpack(ARGV, 4, entry_end))
if #ARGV > entry_end then
  redis.call('HSET', KEYS[2], unpack(ARGV, entry_end + 1, #ARGV))
end
return 1
"""


def _key(station_id: int, part: str) -> str:
    return f"radio:station:{station_id}:{part}"


def _encode(item: AudioPacket | Event) -> dict[bytes, bytes | int | str]:
    if isinstance(item, AudioPacket):
        return {
            b"s": item.seq,
            b"t": item.ingest_ms,
            b"d": repr(item.duration_ms),
            b"p": bytes(item.frames),
        }
    return {b"e": item.text}


def _decode(fields: dict[bytes, bytes]) -> AudioPacket | Event:
    if b"e" in fields:
        return Event.build(json.loads(fields[b"e"]))
    return AudioPacket.build(
        seq=int(fields[b"s"]),
        ingest_ms=int(fields[b"t"]),
        duration_ms=float(fields[b"d"]),
        frames=fields[b"p"],
    )


def _state_fields(event: Event) -> dict[str, str]:
    if event.type == ON_AIR:
        return {
            "on_air": json.dumps(event.data["on_air"]),
            "source": json.dumps(event.data["source"]),
            "broadcast": json.dumps(event.data["broadcast"]),
            "now_playing": "null",
        }
    if event.type == NOW_PLAYING:
        return {"now_playing": event.text}
    return {}


def _state_from_hash(raw: dict[bytes, bytes]) -> dict:
    state = StationState().as_dict()
    for name in state:
        if name.encode() in raw:
            state[name] = json.loads(raw[name.encode()])
    if state["now_playing"]:
        state["now_playing"] = {
            k: v for k, v in state["now_playing"].items() if k != "type"
        }
    return state


class RedisHealth:
    """Whether this process reaches Redis; each outage is logged once.

    Every reader, the ticker and every producer report to one of these, so
    an outage is two log lines for the process ("lost", "back after N s"),
    not one per station or listener per retry.
    """

    def __init__(self) -> None:
        self.lost_at: float | None = None
        self.back_at: float | None = None
        self.outages = 0

    def failed(self, error: BaseException) -> None:
        if self.lost_at is None:
            self.lost_at = time.monotonic()
            self.outages += 1
            logger.error("Lost Redis (%s); retrying until it is back", error)

    def reached(self) -> None:
        if self.lost_at is not None:
            self.back_at = time.monotonic()
            logger.warning("Redis back after %.1f s", self.back_at - self.lost_at)
            self.lost_at = None

    def settling(self, seconds: float) -> bool:
        """Whether Redis is away, or came back less than ``seconds`` ago."""
        if self.lost_at is not None:
            return True
        return self.back_at is not None and time.monotonic() - self.back_at < seconds


class RedisBus(StationBus):
    """Stations shared by every process that uses the same Redis."""

    def __init__(self, url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self._process_id = uuid.uuid4().hex
        base_s, cap_s = RETRY_BACKOFF_S
        self._redis = aioredis.Redis.from_url(
            url,
            decode_responses=False,
            socket_timeout=SOCKET_TIMEOUT_S,
            client_name=CLIENT_NAME_PREFIX + self._process_id,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            retry=Retry(
                ExponentialWithJitterBackoff(base=base_s, cap=cap_s), COMMAND_RETRIES
            ),
        )
        self._claim = self._redis.register_script(CLAIM_SCRIPT)
        self._update = self._redis.register_script(UPDATE_SCRIPT)
        self._publish = self._redis.register_script(PUBLISH_SCRIPT)
        self._readers: dict[int, asyncio.Task] = {}
        # Readers cancelled and not ended yet.
        self._stopping: set[asyncio.Task] = set()
        self.health = RedisHealth()

    @contextlib.contextmanager
    def _reaching(self):
        """Redis errors of the block as BusUnavailable, told to ``health``."""
        try:
            yield
        except UNREACHABLE as error:
            self.health.failed(error)
            raise BusUnavailable(str(error)) from error
        self.health.reached()

    @property
    def available(self) -> bool:
        return self.health.lost_at is None

    async def aclose(self) -> None:
        await super().aclose()
        await asyncio.gather(*self._stopping, return_exceptions=True)
        await self._redis.aclose()

    # --- Feeding hubs ---------------------------------------------------------

    async def _start_feed(self, station_id: int, hub: StationHub) -> None:
        """Catch up and start reading; without Redis, the reader catches up
        once it is back, and the hub's clients wait for it."""
        try:
            last_id = await self._catch_up(station_id, hub)
        except BusUnavailable:
            last_id = None
        self._readers[station_id] = asyncio.get_running_loop().create_task(
            self._read_forever(station_id, hub, last_id)
        )

    async def _stop_feed(self, station_id: int, hub: StationHub) -> None:
        reader = self._readers.pop(station_id, None)
        if reader is not None:
            # Not awaited: a blocking read may take its time to end, and
            # the loop below ends anyway once it is no longer the reader.
            reader.cancel()
            self._stopping.add(reader)
            reader.add_done_callback(self._stopping.discard)
        with contextlib.suppress(BusUnavailable), self._reaching():
            await self._redis.hdel(_key(station_id, "listeners"), self._process_id)

    async def _catch_up(self, station_id: int, hub: StationHub) -> bytes:
        """Load the state and recent output; return the stream id read up to."""
        with self._reaching():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hgetall(_key(station_id, "state"))
                pipe.xrevrange(_key(station_id, "out"), count=BURST_SCAN_ENTRIES)
                raw_state, entries = await pipe.execute()
        hub.state = StationState(**_state_from_hash(raw_state))
        if b"seq" in raw_state:
            hub.last_seq = int(raw_state[b"seq"])
        stale_before_ms = now_ms() - OUTPUT_KEEP_MS
        for _entry_id, fields in reversed(entries):
            item = _decode(fields)
            if isinstance(item, AudioPacket) and item.ingest_ms < stale_before_ms:
                continue
            hub.publish(item)
        return entries[0][0] if entries else b"0-0"

    async def _read_forever(
        self, station_id: int, hub: StationHub, last_id: bytes | None
    ) -> None:
        """Feed ``hub`` from the stream after ``last_id`` (None: catch up).

        When Redis goes away the reader waits for it and reads on from
        where it was: a Redis that restarted empty numbers its entries by
        the clock, after the last one read.
        """
        key = _key(station_id, "out")
        while self._readers.get(station_id) is asyncio.current_task():
            try:
                if last_id is None:
                    last_id = await self._catch_up(station_id, hub)
                with self._reaching():
                    reply = await self._redis.xread(
                        {key: last_id}, block=READ_BLOCK_MS, count=READ_BATCH_ENTRIES
                    )
            except BusUnavailable:
                await asyncio.sleep(RETRY_AFTER_ERROR_S)
                continue
            for _stream, entries in reply:
                for entry_id, fields in entries:
                    last_id = entry_id
                    hub.publish(_decode(fields))

    async def recent_output(
        self, station_id: int, *, after: str | None
    ) -> tuple[list[AudioPacket | Event], str | None]:
        start = "-" if after is None else f"({after}"
        with self._reaching():
            entries = await self._redis.xrange(_key(station_id, "out"), start, "+")
        if not entries:
            return [], after
        return [_decode(fields) for _, fields in entries], entries[-1][0].decode()

    async def _count_listeners(
        self, station_id: int, here: Audience | None
    ) -> Audience:
        key = _key(station_id, "listeners")
        now = int(time.time() * 1000)
        with self._reaching():
            shares = await self._shares(key, here, now)
        live = [share for share in shares if share["expires"] > now]
        return Audience(
            count=sum(share["count"] for share in live),
            users=frozenset(user for share in live for user in share["users"]),
        )

    async def _shares(self, key: str, here: Audience | None, now: int) -> list:
        """Write this process's share of the listeners; read everyone's."""
        async with self._redis.pipeline(transaction=False) as pipe:
            if here is not None:
                share = {"count": here.count, "users": sorted(here.users)}
                pipe.hset(
                    key,
                    self._process_id,
                    json.dumps({**share, "expires": now + COUNT_TTL_MS}),
                )
                pipe.pexpire(key, COUNT_TTL_MS * 2)
            pipe.hgetall(key)
            return [json.loads(value) for value in (await pipe.execute())[-1].values()]

    async def _end_if_orphaned(self, station_id: int) -> bool:
        # A Redis that restarted empty holds no lease: producers claim
        # theirs back at their next renewal, within a lease's lifetime.
        if self.health.settling(LEASE_TTL_S):
            return False
        return await super()._end_if_orphaned(station_id)

    # --- Producing ----------------------------------------------------------

    def _lease_value(self, lease: Lease, *, suspended: bool) -> str:
        return json.dumps(
            {
                "token": lease.token,
                "user": lease.user_id,
                "kind": lease.kind,
                "suspended": suspended,
                "worker": self._process_id,
            }
        )

    async def claim(self, lease: Lease, *, ttl_s: float) -> Claim:
        with self._reaching():
            answer = await self._claim_as(lease, ttl_s)
            if answer is Claim.REFUSED and lease.kind == LIVE:
                # Asked only for a DJ refused: CLIENT LIST costs more than a claim.
                gone = await self._gone_holder(lease)
                if gone is not None:
                    answer = await self._claim_as(lease, ttl_s, gone_worker=gone)
        return answer

    async def _claim_as(
        self, lease: Lease, ttl_s: float, *, gone_worker: str = ""
    ) -> Claim:
        answer = await self._claim(
            keys=[_key(lease.station_id, "lease")],
            args=[
                self._lease_value(lease, suspended=False),
                int(ttl_s * 1000),
                gone_worker,
            ],
        )
        return {0: Claim.REFUSED, 1: Claim.GRANTED, 2: Claim.RESUMED}[int(answer)]

    async def _gone_holder(self, lease: Lease) -> str | None:
        """The process holding the same DJ's live lease, if it has died.

        A process that dies has its connections dropped by Redis at once
        (the kernel closes them), so its name is no longer in CLIENT LIST,
        long before its lease would expire. A machine that vanishes without
        closing them is only noticed when the lease expires.
        """
        raw = await self._redis.get(_key(lease.station_id, "lease"))
        if raw is None:
            return None
        held = json.loads(raw)
        if held["kind"] != LIVE or held["user"] != lease.user_id:
            return None
        worker = held.get("worker")
        if not worker or worker == self._process_id:
            return None
        names = {client.get("name") for client in await self._redis.client_list()}
        return None if CLIENT_NAME_PREFIX + worker in names else worker

    async def _set_lease(self, lease: Lease, value: str, ttl_s: float = 0) -> bool:
        with self._reaching():
            answer = await self._update(
                keys=[_key(lease.station_id, "lease")],
                args=[lease.token, value, int(ttl_s * 1000)],
            )
        return bool(answer)

    async def renew(self, lease: Lease, *, ttl_s: float) -> bool:
        return await self._set_lease(lease, KEEP_LEASE, ttl_s)

    async def suspend(self, lease: Lease, *, grace_s: float) -> None:
        await self._set_lease(lease, self._lease_value(lease, suspended=True), grace_s)

    async def release(self, lease: Lease) -> bool:
        return await self._set_lease(lease, "")

    async def last_seq(self, station_id: int) -> int | None:
        with self._reaching():
            seq = await self._redis.hget(_key(station_id, "state"), "seq")
        return int(seq) if seq is not None else None

    async def _send(
        self, station_id: int, item: AudioPacket | Event, *, lease: Lease | None
    ) -> bool:
        entry = _encode(item)
        state = (
            {"seq": item.seq} if isinstance(item, AudioPacket) else _state_fields(item)
        )
        args = [lease.token if lease else "", now_ms() - OUTPUT_KEEP_MS, len(entry)]
        for pairs in (entry, state):
            for name, value in pairs.items():
                args += [name, value]
        keys = [_key(station_id, part) for part in ("out", "state", "lease")]
        with self._reaching():
            return bool(await self._publish(keys=keys, args=args))

    async def state(self, station_id: int) -> dict:
        hub = self._hubs.get(station_id)
        if hub is not None:
            return hub.state.as_dict()
        with self._reaching():
            state = _state_from_hash(
                await self._redis.hgetall(_key(station_id, "state"))
            )
            if state["on_air"] and await self._end_if_orphaned(station_id):
                return _state_from_hash(
                    await self._redis.hgetall(_key(station_id, "state"))
                )
        return state
