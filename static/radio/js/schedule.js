/**
 * The schedule page: lays the week's shows out again in the reader's time
 * zone. The server sends every occurrence around the week as JSON (UTC ISO
 * times, #schedule-occurrences); the page without this script shows them in
 * the station's zone. ?week=YYYY-MM-DD is the Monday of the week shown, here
 * a Monday of the reader's calendar.
 */

import { el, jsonScript, onReady, timeOfDay } from "./dom.js";
import { addDays, dayParam, mondayOf, parseDay, weekDays } from "./programme.js";

// How often the "on now" mark is moved along, in ms.
const REFRESH_MS = 30_000;

const dayName = new Intl.DateTimeFormat(undefined, {
  weekday: "long",
  day: "numeric",
  month: "long",
});
const weekName = new Intl.DateTimeFormat(undefined, {
  day: "numeric",
  month: "long",
  year: "numeric",
});

function slotItem(occurrence, now) {
  const start = new Date(occurrence.start);
  const end = new Date(occurrence.end);
  const onNow = start <= now && now < end;
  const hosts = occurrence.show.hosts;
  return el(
    "li",
    { class: onNow ? "schedule-slot on-now" : "schedule-slot" },
    el("time", { datetime: occurrence.start }, timeOfDay(occurrence.start)),
    "–",
    el("time", { datetime: occurrence.end }, timeOfDay(occurrence.end)),
    " ",
    el("span", { class: "schedule-show" }, occurrence.show.name),
    hosts.length
      ? el("span", { class: "schedule-hosts muted" }, ` with ${hosts.join(", ")}`)
      : null,
    onNow ? el("span", { class: "badge" }, "On now") : null,
  );
}

function render(root, occurrences, monday) {
  const now = new Date();
  const days = weekDays(occurrences, monday).map(({ day, occurrences: found }) =>
    el(
      "section",
      { class: "schedule-day", dataset: { date: dayParam(day) } },
      el("h2", {}, dayName.format(day)),
      el(
        "ul",
        {},
        found.length
          ? found.map((occurrence) => slotItem(occurrence, now))
          : el("li", { class: "muted" }, "Nothing scheduled."),
      ),
    ),
  );
  root.querySelector("#schedule-days").replaceChildren(...days);
}

function start() {
  const root = document.getElementById("schedule");
  const occurrences = jsonScript("schedule-occurrences", []);
  const monday = mondayOf(parseDay(root.dataset.week) ?? new Date());
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  root.querySelector("#schedule-zone").textContent = `Times in your time zone, ${zone}.`;
  root.querySelector("#week-label").textContent = `Week of ${weekName.format(monday)}`;
  const link = (days) => `${root.dataset.url}?week=${dayParam(addDays(monday, days))}`;
  root.querySelector("#previous-week").href = link(-7);
  root.querySelector("#next-week").href = link(7);
  root.dataset.zone = zone;
  render(root, occurrences, monday);
  root.dataset.ready = "true";
  setInterval(() => render(root, occurrences, monday), REFRESH_MS);
}

onReady(start);
