// Reconnect delays of connection.js (static/radio/js/backoff.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  BUSY_LIMITS,
  JITTER,
  reconnectDelayMs,
  retryDelayMs,
} from "../../static/radio/js/backoff.js";

const limits = { minDelayMs: 250, maxDelayMs: 4000 };
const middle = () => 0.5;

test("the first retry waits the shortest delay", () => {
  assert.equal(reconnectDelayMs(0, { ...limits, random: middle }), 250);
});

test("each retry waits twice as long as the one before", () => {
  const delays = [0, 1, 2, 3].map((attempt) =>
    reconnectDelayMs(attempt, { ...limits, random: middle }),
  );
  assert.deepEqual(delays, [250, 500, 1000, 2000]);
});

test("delays stop growing at the longest delay", () => {
  assert.equal(reconnectDelayMs(5, { ...limits, random: middle }), 4000);
  assert.equal(reconnectDelayMs(60, { ...limits, random: middle }), 4000);
});

test("jitter spreads a delay by at most 20 % either way", () => {
  assert.equal(JITTER, 0.2);
  assert.equal(reconnectDelayMs(2, { ...limits, random: () => 0 }), 800);
  assert.equal(reconnectDelayMs(2, { ...limits, random: () => 1 }), 1200);
  for (let i = 0; i < 100; i++) {
    const delay = reconnectDelayMs(9, limits);
    assert.ok(delay >= 3200 && delay <= 4800, `${delay} ms`);
  }
});

test("the first retry after a restart (1012) is at once", () => {
  assert.equal(retryDelayMs(0, { ...limits, restarted: true }), 0);
});

test("further retries after a restart back off as usual", () => {
  const delays = [1, 2].map((attempt) =>
    retryDelayMs(attempt, { ...limits, restarted: true, random: middle }),
  );
  assert.deepEqual(delays, [500, 1000]);
});

test("a retry after any other close waits the usual delay", () => {
  assert.equal(retryDelayMs(0, { ...limits, random: middle }), 250);
});

test("a server with no room (4503, 4429) is retried after 10 s, up to a minute", () => {
  const delays = [0, 1, 3, 9].map((attempt) =>
    retryDelayMs(attempt, { ...limits, busy: true, random: middle }),
  );
  assert.deepEqual(delays, [10_000, 20_000, 60_000, 60_000]);
  assert.deepEqual(BUSY_LIMITS, { minDelayMs: 10_000, maxDelayMs: 60_000 });
});
