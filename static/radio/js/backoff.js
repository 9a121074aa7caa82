/**
 * Reconnect delays: pure functions, no DOM (tests/js/backoff.test.js).
 *
 *   reconnectDelayMs(0, { minDelayMs: 250, maxDelayMs: 4000 })  // 200 to 300
 *   reconnectDelayMs(9, { minDelayMs: 250, maxDelayMs: 4000 })  // 3200 to 4800
 */

// Delays vary by ±20 % so that many listeners do not come back in step
// after a server restart.
export const JITTER = 0.2;

/**
 * Milliseconds to wait before retry number `attempt` (0 for the first):
 * `minDelayMs`, then twice as long each time up to `maxDelayMs`, jittered.
 * `random` returns 0 to 1 (Math.random; tests pass their own).
 */
export function reconnectDelayMs(
  attempt,
  { minDelayMs, maxDelayMs, jitter = JITTER, random = Math.random },
) {
  const base = Math.min(maxDelayMs, minDelayMs * 2 ** attempt);
  return Math.round(base * (1 - jitter + random() * 2 * jitter));
}
