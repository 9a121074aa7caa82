/**
 * "On now" and "up next" as the station room and stations.json carry them:
 * { now: OCCURRENCE|null, next: OCCURRENCE|null }, where an occurrence is
 * { show: { name, slug, description, hosts }, start, end } (ISO times).
 * Times are shown in the reader's time zone; show names only as text.
 */

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
