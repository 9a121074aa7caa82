// The live player's arithmetic (static/radio/js/live-edge.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  BEHIND_LIVE_WARN_MS,
  behindLabel,
  isDue,
  keepFrom,
  mp3Seconds,
  newClock,
  observeClock,
  packetAt,
  seqAtOrAfter,
  startFrom,
} from "../../static/radio/js/live-edge.js";

/** One MPEG frame header (and zero padding up to the frame's length). */
function frame(b1, b2, length) {
  const bytes = new Uint8Array(length);
  bytes.set([0xff, b1, b2, 0x44]);
  return bytes;
}

function concat(...parts) {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

// MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: 417 bytes, 1152 samples.
const MPEG1_128K = () => frame(0xfb, 0x90, 417);
// MPEG-2 Layer III, 64 kbit/s, 24 kHz: 192 bytes, 576 samples.
const MPEG2_64K = () => frame(0xf3, 0x84, 192);

test("mp3Seconds counts whole MPEG-1 frames", () => {
  const seconds = mp3Seconds(concat(MPEG1_128K(), MPEG1_128K(), MPEG1_128K()));
  assert.ok(Math.abs(seconds - (3 * 1152) / 44100) < 1e-9);
});

test("mp3Seconds counts MPEG-2 frames of half as many samples", () => {
  const seconds = mp3Seconds(concat(MPEG2_64K(), MPEG2_64K()));
  assert.ok(Math.abs(seconds - (2 * 576) / 24000) < 1e-9);
});

test("mp3Seconds stops at bytes that are not a frame header", () => {
  assert.equal(mp3Seconds(new Uint8Array(0)), 0);
  assert.equal(mp3Seconds(new Uint8Array([1, 2, 3, 4, 5])), 0);
  const seconds = mp3Seconds(concat(MPEG1_128K(), new Uint8Array([0, 0, 0, 0])));
  assert.ok(Math.abs(seconds - 1152 / 44100) < 1e-9);
});

test("seqAtOrAfter orders seq numbers across the uint32 wrap", () => {
  assert.equal(seqAtOrAfter(5, 5), true);
  assert.equal(seqAtOrAfter(6, 5), true);
  assert.equal(seqAtOrAfter(4, 5), false);
  assert.equal(seqAtOrAfter(1, 2 ** 32 - 2), true);
  assert.equal(seqAtOrAfter(2 ** 32 - 2, 1), false);
});

test("the clock offset is the largest ingest minus arrival seen", () => {
  let clock = newClock();
  assert.equal(clock.offsetMs, null);
  clock = observeClock(clock, 10_000, 10_050); // 50 ms in transit
  assert.equal(clock.offsetMs, -50);
  clock = observeClock(clock, 10_100, 10_120); // a faster packet
  assert.equal(clock.offsetMs, -20);
  clock = observeClock(clock, 10_200, 10_400); // a slow one changes nothing
  assert.equal(clock.offsetMs, -20);
});

test("the clock offset follows a server clock that moves", () => {
  let clock = newClock();
  clock = observeClock(clock, 1_000_000, 1_000_000 - 5000, 30_000); // server 5 s ahead
  assert.equal(clock.offsetMs, 5000);
  // A new window: the last window's maximum still counts.
  clock = observeClock(clock, 1_040_000, 1_040_000 + 100, 30_000);
  assert.equal(clock.offsetMs, 5000);
  // Another window later, only the recent samples count.
  clock = observeClock(clock, 1_080_000, 1_080_000 + 100, 30_000);
  assert.equal(clock.offsetMs, -100);
});

test("observeClock leaves the estimate it is given alone", () => {
  const clock = newClock();
  observeClock(clock, 5, 10);
  assert.deepEqual(clock, newClock());
});

const packets = (...seconds) => seconds.map((s, seq) => ({ seq, seconds: s }));

test("keepFrom keeps the newest run of packets just longer than asked", () => {
  assert.equal(keepFrom(packets(1, 1, 1, 1, 1), 3), 1);
  assert.equal(keepFrom(packets(1, 1, 1, 1, 1), 2.5), 2);
  assert.equal(keepFrom(packets(1, 1), 3), 0);
  assert.equal(keepFrom([], 3), 0);
});

test("startFrom starts at the newest run holding at least the start buffer", () => {
  assert.equal(startFrom(packets(0.5, 0.5, 0.5, 0.5), 0.8), 2);
  assert.equal(startFrom(packets(0.5, 0.5, 0.5, 0.5), 1), 2);
  assert.equal(startFrom(packets(0.2, 0.2), 0.8), 0);
  assert.equal(startFrom([], 0.8), 0);
});

const timeline = [
  { seq: 10, start: 0, end: 1 },
  { seq: 11, start: 1, end: 2 },
  { seq: 12, start: 2, end: 3 },
];

test("packetAt finds the packet heard at a time on the media timeline", () => {
  assert.equal(packetAt(timeline, 0.5).seq, 10);
  assert.equal(packetAt(timeline, 1).seq, 11);
  assert.equal(packetAt(timeline, 2.99).seq, 12);
  assert.equal(packetAt(timeline, 3.5), null);
  assert.equal(packetAt([], 1), null);
});

test("isDue says whether a message's audio is heard yet", () => {
  assert.equal(isDue(timeline, 11, 0.5), false);
  assert.equal(isDue(timeline, 11, 0.96), true);
  assert.equal(isDue(timeline, 12, 2), true);
  // Older than everything appended (after a resync): already on.
  assert.equal(isDue(timeline, 3, 0), true);
  // Newer than everything appended: not yet.
  assert.equal(isDue(timeline, 20, 2.9), false);
  assert.equal(isDue([], 1, 0), false);
});

test("behindLabel says how far behind live the player is", () => {
  assert.deepEqual(behindLabel("stopped", null), { text: "", late: false });
  assert.deepEqual(behindLabel("buffering", null), { text: "Buffering…", late: false });
  assert.deepEqual(behindLabel("starting", null), { text: "Buffering…", late: false });
  assert.deepEqual(behindLabel("playing", 1234), { text: "Live, 1.2 s behind", late: false });
  assert.deepEqual(behindLabel("playing", BEHIND_LIVE_WARN_MS), {
    text: "Live, 2.0 s behind",
    late: false,
  });
  assert.deepEqual(behindLabel("playing", 5000), { text: "5.0 s behind live", late: true });
});
