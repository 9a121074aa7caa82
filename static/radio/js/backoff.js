/**
 * Reconnect delays: pure functions, no DOM (tests/js/backoff.test.js).
 *
 *   reconnectDelayMs(0, { minDelayMs: 250, maxDelayMs: 4000 })  // 200 to 300
 *   reconnectDelayMs(9, { minDelayMs: 250, maxDelayMs: 4000 })  // 3200 to 4800
 *   retryDelayMs(0, { restarted: true, minDelayMs: 250, maxDelayMs: 4000 })  // 0
 *   retryDelayMs(0, { busy: true, minDelayMs: 250, maxDelayMs: 4000 })  // 8000 to 12000
 */

// Delays vary by ±20 % so that many listeners do not come back in step
// after a server restart.
export const JITTER = 0.2;
// A server that refused the client for want of room (a full station, too
// many connections from the address) is retried this slowly, so that the
// refused do not keep it busy.
export const BUSY_LIMITS = Object.freeze({ minDelayMs: 10_000, maxDelayMs: 60_000 });

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

/**
 * Milliseconds to wait before retry number `attempt` after a close:
 * none for the first retry after the server said it restarts (1012: the
 * load balancer has a worker that is up), `BUSY_LIMITS` after it said it
 * had no room (`busy`), else `reconnectDelayMs`.
 */
export function retryDelayMs(attempt, { restarted = false, busy = false, ...limits }) {
  if (restarted && attempt === 0) return 0;
  return reconnectDelayMs(attempt, busy ? { ...limits, ...BUSY_LIMITS } : limits);
}
