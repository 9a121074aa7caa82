// "On now" and "up next" lines (static/radio/js/programme.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { scheduleLines, whenLabel } from "../../static/radio/js/programme.js";

const occurrence = (name, start, end) => ({
  show: { name, slug: name.toLowerCase(), description: "", hosts: [] },
  start,
  end,
});

test("nothing scheduled gives no lines", () => {
  assert.deepEqual(scheduleLines({ now: null, next: null }), { now: null, next: null });
  assert.deepEqual(scheduleLines(undefined), { now: null, next: null });
});

test("on now says until its end, up next at its start", () => {
  const now = new Date();
  const end = new Date(now.getTime() + 60_000);
  const lines = scheduleLines({
    now: occurrence("Jazz", now.toISOString(), end.toISOString()),
    next: occurrence("News", end.toISOString(), end.toISOString()),
  });
  assert.equal(lines.now.name, "Jazz");
  assert.equal(lines.now.when, `until ${whenLabel(end.toISOString())}`);
  assert.equal(lines.next.when, `at ${whenLabel(end.toISOString())}`);
});

test("a time on another day names the day", () => {
  const today = new Date(2026, 11, 21, 12);
  const sameDay = whenLabel(new Date(2026, 11, 21, 20).toISOString(), today);
  const otherDay = whenLabel(new Date(2026, 11, 23, 20).toISOString(), today);
  assert.ok(otherDay.length > sameDay.length, `${otherDay} vs ${sameDay}`);
  assert.equal(whenLabel("not a time"), "");
});
