"""The station bus over Redis, for several server processes.

Per station, Redis holds:

- ``radio:station:<id>:out``, a stream of the station's packets and events
  in order, trimmed to the last ``STREAM_KEEP_MS``. Each process with
  clients of the station reads it once (``XREAD BLOCK``) and fans it out
  itself, so the cost to Redis does not grow with the listener count, and a
  process that starts reading gets its first burst from the stream.
- ``radio:station:<id>:state``, a hash of ``on_air``, ``source``,
  ``now_playing`` (JSON) and ``seq``, written with each entry.
- ``radio:station:<id>:lease``, the producer's lease (JSON, with a TTL).
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

from radio.protocol import NOW_PLAYING, ON_AIR

from .audience import Audience
from .bus import Claim, Lease, StationBus
from .hub import StationHub, StationState
from .packets import AudioPacket, Event, now_ms

logger = logging.getLogger(__name__)

# How much of a station's output the stream keeps: enough for any burst.
STREAM_KEEP_MS = 10_000
# Entries read back to build the first burst of a process.
BURST_SCAN_ENTRIES = 512
# A blocking read returns this often even when nothing comes, to notice
# a dead connection ...
READ_BLOCK_MS = 5_000
# ... and must return before the client gives up on the socket (redis-py 8
# gives up after 5 s by default).
SOCKET_TIMEOUT_S = READ_BLOCK_MS / 1000 + 5
READ_BATCH_ENTRIES = 64
# A process's listener count is believed for this long after its last write.
COUNT_TTL_MS = 5_000
RETRY_AFTER_ERROR_S = 1.0

# bus.claim_answer in Lua: ARGV[1] is the wanted lease as JSON, ARGV[2] its
# TTL in ms. Returns 0 (refused), 1 (granted) or 2 (resumed).
CLAIM_SCRIPT = """
local current = redis.call('GET', KEYS[1])
local answer = 1
if current then
  local held = cjson.decode(current)
  local wanted = cjson.decode(ARGV[1])
  answer = 0
  if wanted.kind == 'live' then
    if held.suspended and held.kind == 'live' and held.user == wanted.user then
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


def _lease_value(lease: Lease, *, suspended: bool) -> str:
    return json.dumps(
        {
            "token": lease.token,
            "user": lease.user_id,
            "kind": lease.kind,
            "suspended": suspended,
        }
    )


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


class RedisBus(StationBus):
    """Stations shared by every process that uses the same Redis."""

    def __init__(self, url: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self._redis = aioredis.Redis.from_url(
            url, decode_responses=False, socket_timeout=SOCKET_TIMEOUT_S
        )
        self._claim = self._redis.register_script(CLAIM_SCRIPT)
        self._update = self._redis.register_script(UPDATE_SCRIPT)
        self._publish = self._redis.register_script(PUBLISH_SCRIPT)
        self._process_id = uuid.uuid4().hex
        self._readers: dict[int, asyncio.Task] = {}

    async def aclose(self) -> None:
        await super().aclose()
        await self._redis.aclose()

    # --- Feeding hubs ---------------------------------------------------------

    async def _start_feed(self, station_id: int, hub: StationHub) -> None:
        last_id = await self._catch_up(station_id, hub)
        self._readers[station_id] = asyncio.get_running_loop().create_task(
            self._read_forever(station_id, hub, last_id)
        )

    async def _stop_feed(self, station_id: int, hub: StationHub) -> None:
        self._hubs.pop(station_id, None)
        reader = self._readers.pop(station_id, None)
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await self._redis.hdel(_key(station_id, "listeners"), self._process_id)

    async def _catch_up(self, station_id: int, hub: StationHub) -> bytes:
        """Load the state and recent output; return the stream id read up to."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(_key(station_id, "state"))
            pipe.xrevrange(_key(station_id, "out"), count=BURST_SCAN_ENTRIES)
            raw_state, entries = await pipe.execute()
        hub.state = StationState(**_state_from_hash(raw_state))
        if b"seq" in raw_state:
            hub.last_seq = int(raw_state[b"seq"])
        stale_before_ms = now_ms() - STREAM_KEEP_MS
        for _entry_id, fields in reversed(entries):
            item = _decode(fields)
            if isinstance(item, AudioPacket) and item.ingest_ms < stale_before_ms:
                continue
            hub.publish(item)
        return entries[0][0] if entries else b"0-0"

    async def _read_forever(
        self, station_id: int, hub: StationHub, last_id: bytes
    ) -> None:
        key = _key(station_id, "out")
        while True:
            try:
                reply = await self._redis.xread(
                    {key: last_id}, block=READ_BLOCK_MS, count=READ_BATCH_ENTRIES
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception(
                    "Reading station %s from Redis failed; retrying", station_id
                )
                await asyncio.sleep(RETRY_AFTER_ERROR_S)
                continue
            for _stream, entries in reply:
                for entry_id, fields in entries:
                    last_id = entry_id
                    hub.publish(_decode(fields))

    async def _count_listeners(
        self, station_id: int, here: Audience | None
    ) -> Audience:
        key = _key(station_id, "listeners")
        now = int(time.time() * 1000)
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
            shares = [
                json.loads(value) for value in (await pipe.execute())[-1].values()
            ]
        live = [share for share in shares if share["expires"] > now]
        return Audience(
            count=sum(share["count"] for share in live),
            users=frozenset(user for share in live for user in share["users"]),
        )

    # --- Producing ----------------------------------------------------------

    async def claim(self, lease: Lease, *, ttl_s: float) -> Claim:
        answer = await self._claim(
            keys=[_key(lease.station_id, "lease")],
            args=[_lease_value(lease, suspended=False), int(ttl_s * 1000)],
        )
        return {0: Claim.REFUSED, 1: Claim.GRANTED, 2: Claim.RESUMED}[int(answer)]

    async def _set_lease(self, lease: Lease, value: str, ttl_s: float = 0) -> bool:
        answer = await self._update(
            keys=[_key(lease.station_id, "lease")],
            args=[lease.token, value, int(ttl_s * 1000)],
        )
        return bool(answer)

    async def renew(self, lease: Lease, *, ttl_s: float) -> bool:
        return await self._set_lease(lease, KEEP_LEASE, ttl_s)

    async def suspend(self, lease: Lease, *, grace_s: float) -> None:
        await self._set_lease(lease, _lease_value(lease, suspended=True), grace_s)

    async def release(self, lease: Lease) -> bool:
        return await self._set_lease(lease, "")

    async def last_seq(self, station_id: int) -> int | None:
        seq = await self._redis.hget(_key(station_id, "state"), "seq")
        return int(seq) if seq is not None else None

    async def _send(
        self, station_id: int, item: AudioPacket | Event, *, lease: Lease | None
    ) -> bool:
        entry = _encode(item)
        state = (
            {"seq": item.seq} if isinstance(item, AudioPacket) else _state_fields(item)
        )
        args = [lease.token if lease else "", now_ms() - STREAM_KEEP_MS, len(entry)]
        for pairs in (entry, state):
            for name, value in pairs.items():
                args += [name, value]
        keys = [_key(station_id, part) for part in ("out", "state", "lease")]
        return bool(await self._publish(keys=keys, args=args))

    async def state(self, station_id: int) -> dict:
        hub = self._hubs.get(station_id)
        if hub is not None:
            return hub.state.as_dict()
        state = _state_from_hash(await self._redis.hgetall(_key(station_id, "state")))
        if state["on_air"] and await self._end_if_orphaned(station_id):
            return _state_from_hash(
                await self._redis.hgetall(_key(station_id, "state"))
            )
        return state
