/**
 * The live player's arithmetic: pure functions, no DOM, so that node can
 * test them (tests/js/live-edge.test.js). player.js and listen.js use them.
 *
 *   mp3Seconds(bytes)                     // seconds of whole MP3 frames
 *   seqAtOrAfter(a, b)                    // uint32 order, with wrapping
 *   observeClock(clock, ingestMs, nowMs)  // the server clock's offset
 *   keepFrom(packets, 3)                  // first packet of the newest 3 s
 *   startFrom(packets, 0.8)               // first packet to start playing at
 *   packetAt(timeline, time)              // the packet heard at `time`
 *   isDue(timeline, seq, time)            // whether `seq` is heard by now
 *   behindLabel(state, behindMs)          // { text, late } for the page
 */

// Offsets of the server's clock are gathered over windows this long (ms).
export const CLOCK_WINDOW_MS = 30_000;
// Past this many ms behind live, the page offers "Back to live".
export const BEHIND_LIVE_WARN_MS = 2000;

const MPEG1_L3_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_L3_KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const MPEG1_RATES = [44100, 48000, 32000];

/** Seconds of audio in `bytes`, whole MPEG Layer III frames. */
export function mp3Seconds(bytes) {
  let offset = 0;
  let seconds = 0;
  while (offset + 4 <= bytes.length) {
    const b1 = bytes[offset + 1];
    const b2 = bytes[offset + 2];
    if (bytes[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) break;
    const version = (b1 >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    const rateIndex = (b2 >> 2) & 3;
    const kbps = (version === 3 ? MPEG1_L3_KBPS : MPEG2_L3_KBPS)[b2 >> 4];
    if (version === 1 || rateIndex === 3 || !kbps) break;
    const rate = MPEG1_RATES[rateIndex] / (version === 3 ? 1 : version === 2 ? 2 : 4);
    const samples = version === 3 ? 1152 : 576;
    const length = Math.floor(((samples / 8) * kbps * 1000) / rate) + ((b2 >> 1) & 1);
    seconds += samples / rate;
    offset += length;
  }
  return seconds;
}

/** Whether uint32 `a` comes at or after `b`, with wrapping. */
export function seqAtOrAfter(a, b) {
  return (a - b) >>> 0 < 2 ** 31;
}

/** A clock estimate before any packet: no offset known. */
export function newClock() {
  return { offsetMs: null, windowMax: null, windowStart: 0, previousMax: null };
}

/**
 * The clock estimate after a packet stamped `ingestMs` (server time)
 * arrived at `nowMs` (ours). A packet's ingest_ms can be no later than its
 * arrival, so the largest (ingest − arrival) seen is the offset less the
 * shortest transit time. The largest of this window and the last one
 * counts, so that the estimate follows a drifting clock.
 */
export function observeClock(clock, ingestMs, nowMs, windowMs = CLOCK_WINDOW_MS) {
  const sample = ingestMs - nowMs;
  let { windowMax, windowStart, previousMax } = clock;
  if (nowMs - windowStart > windowMs) {
    previousMax = windowMax;
    windowMax = null;
    windowStart = nowMs;
  }
  windowMax = windowMax === null ? sample : Math.max(windowMax, sample);
  const offsetMs = Math.max(windowMax, previousMax ?? -Infinity);
  return { offsetMs, windowMax, windowStart, previousMax };
}

/**
 * Index of the oldest of `packets` ({ seconds }) worth keeping: the newest
 * run that holds more than `seconds`, or all of them.
 */
export function keepFrom(packets, seconds) {
  let kept = 0;
  for (let i = packets.length - 1; i >= 0; i--) {
    kept += packets[i].seconds;
    if (kept > seconds) return i;
  }
  return 0;
}

/**
 * Index of the packet to start playing at: the newest run of `packets` that
 * holds at least `seconds`, or all of them.
 */
export function startFrom(packets, seconds) {
  let taken = 0;
  let first = packets.length;
  while (first > 0 && taken < seconds) {
    first -= 1;
    taken += packets[first].seconds;
  }
  return first;
}

/** The entry of `timeline` ({ start, end } in media seconds) heard at `time`, or null. */
export function packetAt(timeline, time) {
  for (let i = timeline.length - 1; i >= 0; i--) {
    if (timeline[i].start <= time + 0.001)
      return time < timeline[i].end + 0.05 ? timeline[i] : null;
  }
  return null;
}

/**
 * Whether the audio of message `seq` is heard at media `time`. A seq older
 * than everything on `timeline` (after a resync) is already on.
 */
export function isDue(timeline, seq, time) {
  const entry = timeline.find((item) => seqAtOrAfter(item.seq, seq));
  const first = timeline[0];
  return Boolean(entry ? time + 0.05 >= entry.start : first && !seqAtOrAfter(seq, first.seq));
}

/**
 * What the listener page says of the player's distance from live: `text`,
 * and `late` when it is far enough behind to offer "Back to live".
 */
export function behindLabel(state, behindMs) {
  if (behindMs === null) {
    const waiting = state === "buffering" || state === "starting";
    return { text: waiting ? "Buffering…" : "", late: false };
  }
  const seconds = (behindMs / 1000).toFixed(1);
  const late = behindMs > BEHIND_LIVE_WARN_MS;
  return { text: late ? `${seconds} s behind live` : `Live, ${seconds} s behind`, late };
}
