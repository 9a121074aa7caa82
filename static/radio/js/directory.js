/**
 * The station directory: polls stations.json and updates the list in place
 * (on-air state, now playing, listener count, on-air stations first).
 * Polling pauses while the tab is hidden and resumes at once when shown.
 */

import { el } from "./dom.js";
import { scheduleLines } from "./programme.js";

// How often the directory asks for fresh state, in ms.
const POLL_MS = 3000;
// After a failed request, wait this long times the failures in a row (ms).
const RETRY_STEP_MS = 3000;
const RETRY_MAX_MS = 30_000;

const list = document.getElementById("stations");
let timer = null;
let failures = 0;

function card(station) {
  const existing = list.querySelector(`[data-slug="${CSS.escape(station.slug)}"]`);
  if (existing) return existing;
  return el(
    "li",
    { class: "station-card", dataset: { slug: station.slug } },
    el(
      "a",
      { class: "station-link", href: station.url },
      el(
        "span",
        { class: "station-art", "aria-hidden": "true" },
        station.name.slice(0, 1).toUpperCase(),
      ),
      el(
        "span",
        { class: "station-body" },
        el("span", { class: "station-title" }, station.name),
        el("span", { class: "station-now muted" }),
        el("span", { class: "station-programme muted" }),
      ),
      el(
        "span",
        { class: "station-meta" },
        el(
          "span",
          { class: "on-air-badge" },
          el("span", { class: "dot", "aria-hidden": "true" }),
          el("span", { class: "label" }),
        ),
        el("span", { class: "listeners" }, el("span", { class: "count" }), " listening"),
      ),
    ),
  );
}

function describe(station) {
  const playing = station.now_playing;
  if (station.on_air && playing) {
    const parts = [playing.artist, playing.title].filter(Boolean);
    return parts.length ? `Now: ${parts.join(" – ")}` : "Live now";
  }
  if (station.on_air) return "Live now";
  return station.description || "Off air";
}

/** "On now: Jazz (until 22:00) · Next: News at 22:00", or "". */
export function programmeText(schedule) {
  const lines = scheduleLines(schedule);
  return [
    lines.now && `On now: ${lines.now.name} (${lines.now.when})`,
    lines.next && `Next: ${lines.next.name} ${lines.next.when}`,
  ]
    .filter(Boolean)
    .join(" · ");
}

function update(stations) {
  list.querySelector(".stations-empty")?.remove();
  const items = stations.map((station) => {
    const item = card(station);
    item.dataset.onAir = String(station.on_air);
    item.querySelector(".station-title").textContent = station.name;
    item.querySelector(".station-now").textContent = describe(station);
    item.querySelector(".station-programme").textContent = programmeText(station.schedule);
    const badge = item.querySelector(".on-air-badge");
    badge.dataset.onAir = String(station.on_air);
    badge.querySelector(".label").textContent = station.on_air ? "On air" : "Off air";
    item.querySelector(".listeners .count").textContent = String(station.listeners);
    return item;
  });
  const known = new Set(items);
  for (const child of [...list.children]) if (!known.has(child)) child.remove();
  // Reorder only when the order changed: moving a node drops its focus.
  const current = [...list.children];
  if (items.some((item, index) => current[index] !== item)) list.append(...items);
}

async function poll() {
  clearTimeout(timer);
  try {
    const response = await fetch(list.dataset.statusUrl, {
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    update((await response.json()).stations);
    failures = 0;
    list.dataset.updated = String(Date.now());
  } catch {
    failures += 1;
  }
  schedule();
}

function schedule() {
  clearTimeout(timer);
  if (document.visibilityState === "hidden") return;
  const delay = failures ? Math.min(RETRY_MAX_MS, RETRY_STEP_MS * failures) : POLL_MS;
  timer = setTimeout(poll, delay);
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") poll();
  else clearTimeout(timer);
});
poll();
