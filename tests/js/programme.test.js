// "On now" and "up next" lines (static/radio/js/programme.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  addDays,
  dayParam,
  mondayOf,
  parseDay,
  scheduleLines,
  weekDays,
  whenLabel,
} from "../../static/radio/js/programme.js";

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

test("a week starts on the Monday of the reader's calendar", () => {
  assert.equal(dayParam(mondayOf(new Date(2026, 11, 9, 15))), "2026-12-07");
  assert.equal(dayParam(mondayOf(new Date(2026, 11, 13, 23, 59))), "2026-12-07");
  assert.equal(dayParam(mondayOf(new Date(2026, 11, 7, 0, 0))), "2026-12-07");
  assert.equal(dayParam(addDays(new Date(2026, 11, 28), 7)), "2027-01-04");
});

test("week parameters are read back, bad ones refused", () => {
  assert.equal(dayParam(parseDay("2026-12-07")), "2026-12-07");
  for (const bad of ["", null, "2026-12-7", "07.12.2026", "2026-12-07x"]) {
    assert.equal(parseDay(bad), null, String(bad));
  }
});

test("occurrences fall on the local day they start", () => {
  const monday = new Date(2026, 11, 7);
  const at = (day, hour) => new Date(2026, 11, day, hour).toISOString();
  const days = weekDays(
    [
      occurrence("Before", at(6, 23), at(7, 1)),
      occurrence("Wednesday", at(9, 20), at(9, 21)),
      occurrence("Late", at(9, 23), at(10, 1)),
      occurrence("After", at(14, 0), at(14, 1)),
    ],
    monday,
  );
  assert.equal(days.length, 7);
  assert.deepEqual(
    days.map(({ occurrences }) => occurrences.map((o) => o.show.name)),
    [[], [], ["Wednesday", "Late"], [], [], [], []],
  );
});
