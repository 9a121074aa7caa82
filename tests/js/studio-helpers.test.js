// The console's pure functions (static/radio/js/studio-helpers.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  crossfadeSeconds,
  formatDuration,
  meterLevel,
  nowPlayingText,
  slotEndingText,
  trackFromFileName,
} from "../../static/radio/js/studio-helpers.js";

test("a file named Artist - Title gives both", () => {
  assert.deepEqual(trackFromFileName("Nina Simone - Sinnerman.mp3"), {
    artist: "Nina Simone",
    title: "Sinnerman",
  });
});

test("underscores count as spaces and only the last extension goes", () => {
  assert.deepEqual(trackFromFileName("Daft_Punk - One_More_Time.v2.ogg"), {
    artist: "Daft Punk",
    title: "One More Time.v2",
  });
});

test("a title may itself hold a dash", () => {
  assert.deepEqual(trackFromFileName("A - B - C.flac"), { artist: "A", title: "B - C" });
});

test("a file name without ' - ' is all title", () => {
  assert.deepEqual(trackFromFileName("jingle.wav"), { artist: "", title: "jingle" });
  assert.deepEqual(trackFromFileName("lo-fi beat.mp3"), { artist: "", title: "lo-fi beat" });
});

test("nowPlayingText joins what is there", () => {
  assert.equal(nowPlayingText({ artist: "A", title: "T" }), "A – T");
  assert.equal(nowPlayingText({ artist: "", title: "T" }), "T");
  assert.equal(nowPlayingText({ title: "" }), "");
  assert.equal(nowPlayingText(null), "");
});

test("meters rise at once and fall slowly", () => {
  assert.equal(meterLevel(1, 0), 1);
  assert.equal(meterLevel(0, 0), 0);
  assert.ok(Math.abs(meterLevel(0.001, 0)) < 1e-9); // -60 dBFS: the floor
  assert.ok(Math.abs(meterLevel(10 ** (-30 / 20), 0) - 0.5) < 1e-9); // -30 dBFS: half way
  assert.ok(Math.abs(meterLevel(0, 0.5) - 0.485) < 1e-9);
});

test("formatDuration writes minutes and seconds", () => {
  assert.equal(formatDuration(83_000), "1:23");
  assert.equal(formatDuration(5_400), "0:05");
  assert.equal(formatDuration(undefined), "");
  assert.equal(formatDuration(Number.NaN), "");
});

test("crossfades stay between 0 and the server's longest", () => {
  assert.equal(crossfadeSeconds("4.5", 10), 4.5);
  assert.equal(crossfadeSeconds("30", 10), 10);
  assert.equal(crossfadeSeconds("-2", 10), 0);
  assert.equal(crossfadeSeconds("", 10), 0);
  assert.equal(crossfadeSeconds("abc", 10), 0);
});

test("a slot ending says when it ends and when the DJ goes off air", () => {
  const warning = {
    ends_at: "2026-12-07T19:00:00+00:00",
    off_air_at: "2026-12-07T19:05:00+00:00",
    minutes_left: 5,
  };
  const berlin = { timeZone: "Europe/Berlin", hour12: false };
  assert.equal(
    slotEndingText(warning, berlin),
    "Your slot ends at 20:00 (5 minutes left at most); you go off air at 20:05.",
  );
  assert.match(slotEndingText({ ...warning, minutes_left: 1 }, berlin), /\(1 minute left/);
  assert.match(
    slotEndingText({ ...warning, minutes_left: 0 }, berlin),
    /^Your slot ended at 20:00;/,
  );
});
