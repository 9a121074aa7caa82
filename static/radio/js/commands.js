/**
 * Commands typed in the chat box: pure functions, no DOM
 * (tests/js/commands.test.js).
 *
 *   parsePm("/pm bob hello there")      // { to: "bob", text: "hello there" }
 */

/** `/pm USER TEXT` → { to, text }, or null when `line` is not one. */
export function parsePm(line) {
  const match = /^\/pm\s+(\S+)\s+([\s\S]+)$/.exec(line.trim());
  return match ? { to: match[1], text: match[2].trim() } : null;
}
