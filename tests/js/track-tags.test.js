// Tags of DJs' files (static/radio/js/track-tags.js), read from files that
// ffmpeg writes, the way a DJ's tagger would.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { tagsOf, trackOfFile } from "../../static/radio/js/track-tags.js";

const folder = mkdtempSync(join(tmpdir(), "track-tags-"));
const TAGS = { title: "Évening Tune", artist: "The Testers" };

/** A second of tone written by ffmpeg as ``name`` with ``options``, tagged. */
function tagged(name, options = [], tags = TAGS) {
  const path = join(folder, name);
  const metadata = Object.entries(tags).flatMap(([key, value]) => ["-metadata", `${key}=${value}`]);
  execFileSync("ffmpeg", [
    "-nostdin",
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "sine=duration=1",
    ...options,
    ...metadata,
    path,
  ]); // prettier-ignore
  return new File([readFileSync(path)], `Someone - Something${name.slice(name.indexOf("."))}`);
}

for (const [kind, name, options] of [
  ["ID3v2.4", "v24.mp3", []],
  ["ID3v2.3 (UTF-16)", "v23.mp3", ["-id3v2_version", "3"]],
  ["FLAC", "a.flac", []],
  ["Ogg Opus", "a.opus", []],
  ["Ogg Vorbis", "a.ogg", ["-c:a", "libvorbis"]],
]) {
  test(`the title and artist come from ${kind} tags`, async () => {
    assert.deepEqual(await trackOfFile(tagged(name, options)), TAGS);
  });
}

test("the title and artist come from ID3v1 tags", async () => {
  // ffmpeg writes ID3v1 only beside ID3v2: the ID3v2 tag is cut off here.
  const both = await tagged("v1.mp3", ["-write_id3v1", "1"]).bytes();
  const id3v2Size = 10 + ((both[6] << 21) | (both[7] << 14) | (both[8] << 7) | both[9]);
  const file = new File([both.subarray(id3v2Size)], "x.mp3");
  // ID3v1 has no character set; ffmpeg writes UTF-8, read as Latin-1.
  assert.deepEqual(await trackOfFile(file), { title: "Ã\u0089vening Tune", artist: "The Testers" });
});

test("a file without tags is named by its file name", async () => {
  const file = tagged("bare.mp3", ["-id3v2_version", "0"], {});
  assert.deepEqual(await trackOfFile(file), { artist: "Someone", title: "Something" });
});

test("a tag with a title and no artist leaves the artist empty", async () => {
  const file = tagged("title-only.mp3", [], { title: "Jingle" });
  assert.deepEqual(await trackOfFile(file), { title: "Jingle", artist: "" });
});

test("frames after a large cover picture are still found", async () => {
  const picture = new Uint8Array(300_000).fill(0xaa);
  const tag = id3v23([
    frame("APIC", picture),
    frame("TIT2", latin1("After Art")),
    frame("TPE1", latin1("Painter")),
  ]);
  const file = new File([tag, new Uint8Array(2000)], "x.mp3");
  assert.deepEqual(await trackOfFile(file), { title: "After Art", artist: "Painter" });
});

test("an ID3v2.2 tag has three-letter frames", () => {
  const body = [
    ["TT2", latin1("Old Tag")],
    ["TP1", latin1("Old Artist")],
  ].map(([id, data]) => [
    ...ascii(id),
    (data.length >> 16) & 0xff,
    (data.length >> 8) & 0xff,
    data.length & 0xff,
    ...data,
  ]);
  const tag = Uint8Array.from([...header(2, body.flat().length), ...body.flat()]);
  assert.deepEqual(tagsOf(tag), { title: "Old Tag", artist: "Old Artist" });
});

test("a truncated or corrupt tag gives nothing rather than an error", () => {
  const tag = id3v23([frame("TIT2", latin1("Cut short"))]);
  assert.equal(tagsOf(tag.subarray(0, 15)), null);
  const lying = Uint8Array.from(tag);
  lying[17] = 0x7f; // the frame claims far more bytes than the tag has
  assert.equal(tagsOf(lying), null);
  assert.equal(tagsOf(new Uint8Array([0x66, 0x4c, 0x61, 0x43, 0x84, 0xff, 0xff, 0xff])), null);
});

// --- ID3v2.3 by hand -------------------------------------------------------

function ascii(text) {
  return [...text].map((character) => character.charCodeAt(0));
}

function latin1(text) {
  return [0, ...ascii(text)];
}

function frame(id, data) {
  const size = data.length;
  return [
    ...ascii(id),
    size >>> 24,
    (size >> 16) & 0xff,
    (size >> 8) & 0xff,
    size & 0xff,
    0,
    0,
    ...data,
  ];
}

function header(version, size) {
  return [
    ...ascii("ID3"),
    version,
    0,
    0,
    (size >> 21) & 0x7f,
    (size >> 14) & 0x7f,
    (size >> 7) & 0x7f,
    size & 0x7f,
  ];
}

function id3v23(frames) {
  const body = frames.flat();
  return Uint8Array.from([...header(3, body.length), ...body]);
}
