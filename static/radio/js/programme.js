/**
 * Occurrences of shows, as the schedule page and the station room carry them,
 * in the reader's time zone: the days of a week, and "on now" / "up next"
 * lines from { now: OCCURRENCE|null, next: OCCURRENCE|null } (the room's
 * hello.schedule and schedule messages, stations.json). An occurrence is
 * { show: { name, slug, description, hosts }, start, end } (ISO times).
 * Show names are only ever shown as text.
 */

/* Pure: no DOM, so node's test runner imports it (tests/js/). */

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayAndClock = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  hour: "2-digit",
  minute: "2-digit",
});

/** "20:00" today, "Mon 20:00" on another day, in the reader's zone. */
export function whenLabel(iso, now = new Date()) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toDateString() === now.toDateString() ? clock.format(date) : dayAndClock.format(date);
}

/** "Jazz (until 22:00)" and "Breakfast (at Tue 07:00)", or null for none. */
export function scheduleLines(schedule) {
  const now = schedule?.now;
  const next = schedule?.next;
  return {
    now: now ? { name: now.show.name, when: `until ${whenLabel(now.end)}` } : null,
    next: next ? { name: next.show.name, when: `at ${whenLabel(next.start)}` } : null,
  };
}

/** Midnight (local) of the Monday of `date`'s week. */
export function mondayOf(date) {
  const day = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  return addDays(day, -((day.getDay() + 6) % 7));
}

/** `date` plus `days` calendar days, at local midnight. */
export function addDays(date, days) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate() + days);
}

/** "YYYY-MM-DD" of a local date; parseDay is its inverse (null if invalid). */
export function dayParam(date) {
  const pad = (value) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function parseDay(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
  if (!match) return null;
  const date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** The occurrences starting on each of the 7 local days from `monday`. */
export function weekDays(occurrences, monday) {
  return Array.from({ length: 7 }, (_, offset) => {
    const start = addDays(monday, offset);
    const end = addDays(monday, offset + 1);
    const found = occurrences.filter((occurrence) => {
      const begins = new Date(occurrence.start);
      return begins >= start && begins < end;
    });
    return { day: start, occurrences: found };
  });
}
