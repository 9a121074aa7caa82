/**
 * The wire protocol's message types, close codes, error codes and limits, as the server
 * defines them (radio/protocol.py, for_pages()). base.html renders them once
 * with json_script; no page keeps copies.
 *
 *   import { CLOSE, ERRORS, LIMITS, TYPES } from "./protocol.js";
 *   CLOSE.noSuchStation     // 4404
 *   ERRORS.tooLong          // "too_long"
 *   LIMITS.chatMaxChars     // 500
 *   TYPES.chatHistory       // "chat.history"
 */

import { jsonScript } from "./dom.js";

const protocol = jsonScript("radio-protocol");
if (!protocol) {
  throw new Error('No #radio-protocol JSON on this page: the template must extend "base.html".');
}

export const CLOSE = Object.freeze(protocol.close);
export const ERRORS = Object.freeze(protocol.errors);
export const LIMITS = Object.freeze(protocol.limits);
export const TYPES = Object.freeze(protocol.types);
