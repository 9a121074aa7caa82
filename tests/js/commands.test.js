// Chat box commands (static/radio/js/commands.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { parsePm } from "../../static/radio/js/commands.js";

test("/pm names a user and the rest is the text", () => {
  assert.deepEqual(parsePm("/pm bob hello there"), { to: "bob", text: "hello there" });
});

test("/pm keeps line breaks and trims the ends", () => {
  assert.deepEqual(parsePm("  /pm  bob   one\ntwo  "), { to: "bob", text: "one\ntwo" });
});

test("/pm without a user or a text is not a private message", () => {
  assert.equal(parsePm("/pm"), null);
  assert.equal(parsePm("/pm bob"), null);
  assert.equal(parsePm("/pm bob   "), null);
  assert.equal(parsePm("hello /pm bob hi"), null);
});
