// The mixing desk's arithmetic (static/radio/js/mixing.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AUDIBLE_FLOOR,
  audibleDeck,
  callerRoutes,
  clipperCurve,
  compressorMakeupDb,
  crossfadeCurve,
  crossfadeGains,
  crossfadePosition,
  decibelsToGain,
  duckedLevel,
  duckTarget,
  LIMITER,
  mixStartsIn,
  TALKOVER,
} from "../../static/radio/js/mixing.js";

const close = (actual, expected, within = 1e-6) =>
  assert.ok(Math.abs(actual - expected) <= within, `${actual} is not ${expected} ± ${within}`);

test("the crossfader's ends play one deck alone", () => {
  assert.deepEqual(crossfadeGains(0), { a: 1, b: 0 });
  close(crossfadeGains(1).a, 0);
  close(crossfadeGains(1).b, 1);
});

test("the crossfader keeps the power constant across its travel", () => {
  for (let position = 0; position <= 1; position += 0.05) {
    const { a, b } = crossfadeGains(position);
    close(a * a + b * b, 1);
  }
  const middle = crossfadeGains(0.5);
  close(middle.a, Math.SQRT1_2);
  close(middle.b, Math.SQRT1_2);
});

test("the crossfader's gains move one way only as it travels", () => {
  let previous = crossfadeGains(0);
  for (let position = 0.1; position <= 1; position += 0.1) {
    const gains = crossfadeGains(position);
    assert.ok(gains.a < previous.a && gains.b > previous.b);
    previous = gains;
  }
});

test("positions off the crossfader's ends are held at the ends", () => {
  assert.deepEqual(crossfadeGains(-2), crossfadeGains(0));
  assert.deepEqual(crossfadeGains(7), crossfadeGains(1));
});

test("a crossfade curve runs from one position to the other", () => {
  const { a, b } = crossfadeCurve(1, 0, 65);
  assert.equal(a.length, 65);
  close(a[0], 0);
  close(b[0], 1);
  close(a[32], Math.SQRT1_2, 1e-6);
  close(a[64], 1);
  close(b[64], 0);
});

test("the crossfader's position during a move", () => {
  assert.equal(crossfadePosition({ from: 0, to: 1, elapsed: 2.5, seconds: 5 }), 0.5);
  assert.equal(crossfadePosition({ from: 1, to: 0, elapsed: 9, seconds: 5 }), 0);
  assert.equal(crossfadePosition({ from: 0, to: 1, elapsed: 0, seconds: 0 }), 1);
});

test("talk-over ducks the music by its depth and lets it back to full", () => {
  close(decibelsToGain(-12), 0.2512, 1e-4);
  close(duckTarget(true), decibelsToGain(TALKOVER.depthDb));
  close(duckTarget(true, -6), 0.5012, 1e-4);
  assert.equal(duckTarget(false), 1);
});

test("the ducking envelope is 95 % of the way after its attack or release", () => {
  const down = duckTarget(true);
  const attack = { from: 1, to: down, seconds: TALKOVER.attackS };
  assert.equal(duckedLevel({ ...attack, elapsed: 0 }), 1);
  const after = duckedLevel({ ...attack, elapsed: TALKOVER.attackS });
  close((1 - after) / (1 - down), 0.95, 0.001);
  const release = { from: down, to: 1, seconds: TALKOVER.releaseS };
  const halfway = duckedLevel({ ...release, elapsed: TALKOVER.releaseS / 2 });
  assert.ok(halfway > down && halfway < 1);
  close(duckedLevel({ ...release, elapsed: 10 }), 1);
});

test("the attack is short and the release longer", () => {
  assert.ok(TALKOVER.attackS <= 0.1);
  assert.ok(TALKOVER.releaseS > TALKOVER.attackS);
});

test("the other deck starts when the track has the lead time left", () => {
  assert.equal(mixStartsIn({ duration: 200, position: 100, leadSeconds: 5 }), 95);
  assert.equal(mixStartsIn({ duration: 200, position: 195, leadSeconds: 5 }), 0);
  assert.equal(mixStartsIn({ duration: 200, position: 199, leadSeconds: 5 }), 0);
  // A track shorter than the lead mixes at once.
  assert.equal(mixStartsIn({ duration: 3, position: 0, leadSeconds: 5 }), 0);
});

test("a track of unknown length never starts the mix", () => {
  assert.equal(mixStartsIn({ duration: Number.NaN, position: 0, leadSeconds: 5 }), null);
  assert.equal(
    mixStartsIn({ duration: Number.POSITIVE_INFINITY, position: 0, leadSeconds: 5 }),
    null,
  );
});

test("the audible deck is the loudest one above the floor", () => {
  assert.equal(audibleDeck({ a: 0.9, b: 0.2 }), "a");
  assert.equal(audibleDeck({ a: 0.4, b: 0.6 }), "b");
  assert.equal(audibleDeck({ a: AUDIBLE_FLOOR / 2, b: 0 }), null);
  assert.equal(audibleDeck({}), null);
});

test("the limiter takes back the gain the compressor adds by itself", () => {
  // The node's defaults, -24 dB at 12:1: their full-range gain is -22 dB.
  close(compressorMakeupDb({ thresholdDb: -24, ratio: 12 }), 13.2, 0.001);
  close(compressorMakeupDb(LIMITER), 1.14, 0.001);
  close(compressorMakeupDb({ thresholdDb: 0, ratio: 20 }), 0);
});

test("the clipper passes what is under its ceiling and holds the rest at it", () => {
  const curve = clipperCurve(0.95, 2001);
  close(curve[1000], 0); // the middle of the curve is silence
  close(curve[1500], 0.5, 1e-6);
  close(curve[0], -0.95);
  close(curve[2000], 0.95);
  assert.ok(curve.every((value) => Math.abs(value) <= 0.95 + 1e-7));
});

test("a caller's voice goes on air only when they are", () => {
  assert.equal(callerRoutes("private").onAir, 0);
  assert.equal(callerRoutes("hold").onAir, 0);
  assert.equal(callerRoutes("on_air").onAir, 1);
});

test("the DJ hears an answered caller, except on hold", () => {
  assert.equal(callerRoutes("private").headphones, 1);
  assert.equal(callerRoutes("on_air").headphones, 1);
  assert.equal(callerRoutes("hold").headphones, 0);
});

test("a caller hears the DJ off air, the music only on air, nothing on hold", () => {
  assert.deepEqual([callerRoutes("private").hearsMic, callerRoutes("private").hearsMusic], [1, 0]);
  assert.deepEqual([callerRoutes("on_air").hearsMic, callerRoutes("on_air").hearsMusic], [1, 1]);
  assert.deepEqual([callerRoutes("hold").hearsMic, callerRoutes("hold").hearsMusic], [0, 0]);
});

test("a call not answered, or over, goes nowhere", () => {
  for (const state of ["waiting", "ended", undefined]) {
    assert.deepEqual(callerRoutes(state), callerRoutes("hold"));
  }
});
