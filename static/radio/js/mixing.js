/**
 * The mixing desk's arithmetic, no Web Audio and no DOM
 * (tests/js/mixing.test.js).
 *
 *   crossfadeGains(0.5)                        // { a: 0.707…, b: 0.707… }
 *   crossfadeCurve(0, 1, 64)                   // { a: Float32Array, b: Float32Array }
 *   decibelsToGain(-12)                        // 0.251…
 *   duckedLevel({ from: 1, to: 0.25, elapsed: 0.05, seconds: 0.05 })  // 0.287…
 *   mixStartsIn({ duration: 200, position: 190, leadSeconds: 5 })     // 5
 *   audibleDeck({ a: 0.9, b: 0.2 })            // "a"
 *   LIMITER, compressorMakeupDb(LIMITER)       // the limiter's settings; 1.14 dB
 *   clipperCurve(0.95, 4097)                   // a WaveShaper curve, flat above 0.95
 *   callerRoutes("on_air")                     // where a caller's voice goes, and what they hear
 */

// Talk-over: how far the music ducks while the microphone is open, and how
// fast it goes down and comes back up.
export const TALKOVER = Object.freeze({ depthDb: -12, attackS: 0.05, releaseS: 0.4 });
// Seconds before a track's end at which the auto-DJ mode starts the other deck.
export const AUTOMIX_LEAD_S = 5;
// The limiter before the encoder: a DynamicsCompressorNode this hard, then
// a clipper at ``ceiling`` (of full scale) for what its attack lets through.
export const LIMITER = Object.freeze({
  thresholdDb: -2,
  ratio: 20,
  attackS: 0.001,
  releaseS: 0.1,
  ceiling: 0.95,
});
// Where a caller's voice goes in each state of the call (on air; to the
// DJ's headphones) and what the caller hears of the desk: the DJ's
// microphone before its on-air switch, so the DJ can talk to them off air,
// and the music once they are on air. Never the programme, which holds
// their own voice: they hear themselves neither late nor at all.
const CALLER_ROUTES = Object.freeze({
  private: Object.freeze({ onAir: 0, headphones: 1, hearsMic: 1, hearsMusic: 0 }),
  on_air: Object.freeze({ onAir: 1, headphones: 1, hearsMic: 1, hearsMusic: 1 }),
  hold: Object.freeze({ onAir: 0, headphones: 0, hearsMic: 0, hearsMusic: 0 }),
});

/** The routes of a caller in ``state``; a call not answered (or ended) goes nowhere. */
export function callerRoutes(state) {
  return CALLER_ROUTES[state] ?? CALLER_ROUTES.hold;
}

// A deck quieter than this (crossfader gain times level) is not what
// listeners hear, so its title is not announced.
export const AUDIBLE_FLOOR = 0.1;

/**
 * The gains of decks A and B for a crossfader at ``position`` (0 = all A,
 * 1 = all B), on an equal-power curve: the sum of their powers is always 1,
 * so a fade between two tracks keeps its loudness.
 */
export function crossfadeGains(position) {
  const angle = (clamp(position, 0, 1) * Math.PI) / 2;
  return { a: Math.cos(angle), b: Math.sin(angle) };
}

/**
 * The gains of both decks while the crossfader moves from ``from`` to
 * ``to``, in ``steps`` values for AudioParam.setValueCurveAtTime.
 */
export function crossfadeCurve(from, to, steps) {
  const a = new Float32Array(steps);
  const b = new Float32Array(steps);
  for (let step = 0; step < steps; step += 1) {
    const gains = crossfadeGains(from + ((to - from) * step) / (steps - 1));
    a[step] = gains.a;
    b[step] = gains.b;
  }
  return { a, b };
}

/** The crossfader's position ``elapsed`` seconds into a move of ``seconds``. */
export function crossfadePosition({ from, to, elapsed, seconds }) {
  if (seconds <= 0) return to;
  return from + (to - from) * clamp(elapsed / seconds, 0, 1);
}

export function decibelsToGain(decibels) {
  return 10 ** (decibels / 20);
}

/**
 * The time constant for AudioParam.setTargetAtTime that takes a change 95 %
 * of the way in ``seconds``.
 */
export function timeConstant(seconds) {
  return seconds / 3;
}

/**
 * The music's gain ``elapsed`` seconds after the microphone opened or
 * closed, going from ``from`` to ``to`` in about ``seconds`` (the attack or
 * the release): the curve setTargetAtTime draws.
 */
export function duckedLevel({ from, to, elapsed, seconds }) {
  return to + (from - to) * Math.exp(-elapsed / timeConstant(seconds));
}

/** The music's gain while the microphone is ``open``, ducking by ``depthDb``. */
export function duckTarget(open, depthDb = TALKOVER.depthDb) {
  return open ? decibelsToGain(depthDb) : 1;
}

/**
 * The gain a DynamicsCompressorNode adds to everything by itself (Web Audio
 * spec, "makeup gain": the full-range gain's inverse to the power 0.6), in
 * decibels, for a hard knee; the limiter takes it back off.
 */
export function compressorMakeupDb({ thresholdDb, ratio }) {
  const fullRangeGainDb = thresholdDb * (1 - 1 / ratio);
  return -0.6 * fullRangeGainDb;
}

/** A WaveShaper curve of ``points`` values: unchanged up to ``ceiling``, flat beyond. */
export function clipperCurve(ceiling, points) {
  const curve = new Float32Array(points);
  for (let index = 0; index < points; index += 1) {
    curve[index] = clamp((2 * index) / (points - 1) - 1, -ceiling, ceiling);
  }
  return curve;
}

/**
 * Seconds until the other deck must start for a crossfade of
 * ``leadSeconds`` to end with this track: 0 when it is due; null while the
 * track's duration is not known.
 */
export function mixStartsIn({ duration, position, leadSeconds }) {
  if (!Number.isFinite(duration) || duration <= 0) return null;
  return Math.max(duration - leadSeconds - position, 0);
}

/**
 * The name of the deck listeners hear most, from each deck's loudness in
 * the mix (0 when it is stopped), or null when none is above AUDIBLE_FLOOR.
 */
export function audibleDeck(loudness) {
  let loudest = null;
  let highest = AUDIBLE_FLOOR;
  for (const [name, level] of Object.entries(loudness)) {
    if (level > highest) {
      loudest = name;
      highest = level;
    }
  }
  return loudest;
}

function clamp(value, low, high) {
  return Math.min(Math.max(value, low), high);
}
