/**
 * The console's pure functions, no DOM (tests/js/studio-helpers.test.js).
 *
 *   trackFromFileName("Nina_Simone - Sinnerman.mp3")  // { artist: "Nina Simone", title: "Sinnerman" }
 *   nowPlayingText({ artist: "A", title: "T" })       // "A – T"
 *   meterLevel(0.5, 0.9)                              // shown level, 0 to 1
 *   formatDuration(83_000)                            // "1:23"
 *   crossfadeSeconds("12", 10)                        // 10
 *   slotEndingText({ ends_at, off_air_at, minutes_left: 5 })  // "Your slot ends at 21:00 …"
 */

// The meters show -60 dBFS to 0 dBFS, and fall back slowly like a PPM.
export const METER_FLOOR_DB = -60;
export const METER_FALL_PER_FRAME = 0.015;

/**
 * The artist and title in a file's name, "Artist - Title.ext"; underscores
 * count as spaces. Without " - " the whole name is the title.
 */
export function trackFromFileName(name) {
  const base = name
    .replace(/\.[^.]+$/, "")
    .replace(/_/g, " ")
    .trim();
  const [artist, ...rest] = base.split(" - ");
  const title = rest.length ? rest.join(" - ") : base;
  return { artist: rest.length ? artist.trim() : "", title: title.trim() };
}

/** "Artist – Title" of a now_playing message (or status), "" for none. */
export function nowPlayingText(nowPlaying) {
  return nowPlaying ? [nowPlaying.artist, nowPlaying.title].filter(Boolean).join(" – ") : "";
}

/**
 * The level a meter shows, 0 to 1, for a peak `level` (0 to 1, linear) when
 * it showed `shown` the frame before: up at once, down slowly.
 */
export function meterLevel(level, shown) {
  const db = level > 0 ? 20 * Math.log10(level) : METER_FLOOR_DB;
  const target = Math.min(Math.max(1 - db / METER_FLOOR_DB, 0), 1);
  return Math.max(target, shown - METER_FALL_PER_FRAME);
}

/** "M:SS" of a duration in milliseconds; "" when unknown. */
export function formatDuration(milliseconds) {
  if (!Number.isFinite(milliseconds)) return "";
  const seconds = Math.round(milliseconds / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/** The crossfade typed in `value`, in seconds, from 0 to `maxSeconds`. */
export function crossfadeSeconds(value, maxSeconds) {
  return Math.min(Math.max(Number(value) || 0, 0), maxSeconds);
}

/**
 * What the console says of a ``slot_ending`` message: when the DJ's slot
 * ends and when they go off air, in the browser's time (``options`` of
 * toLocaleTimeString, e.g. a ``timeZone``, for tests).
 */
export function slotEndingText({ ends_at, off_air_at, minutes_left }, options = {}) {
  const clock = (iso) =>
    new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", ...options });
  const left = minutes_left === 1 ? "1 minute" : `${minutes_left} minutes`;
  const slot =
    minutes_left > 0
      ? `Your slot ends at ${clock(ends_at)} (${left} left at most)`
      : `Your slot ended at ${clock(ends_at)}`;
  return `${slot}; you go off air at ${clock(off_air_at)}.`;
}
