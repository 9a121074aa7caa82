/**
 * Small DOM helpers shared by the pages. Text always goes in through
 * textContent, never innerHTML: user text is shown as typed.
 *
 *   el("li", { class: "x", "aria-label": "y", dataset: { id: 1 } }, "text", child)
 *   timeOfDay("2026-11-25T15:10:33.939505+00:00")  // "15:10", local time
 *   clockTime(65_000)                               // "1:05"
 *   onReady(fn)                                     // after DOMContentLoaded
 *   const find = finder(root); find("go-live")      // #go-live inside root
 *   say(noteElement, "Sent.", "ok")                 // a form's note
 *   microphoneProblem(error)                        // why getUserMedia failed, for people
 */

/** A new element with attributes and children (strings become text). */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "class") element.className = value;
    else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/** "HH:MM" in the reader's time zone, from an ISO 8601 time. */
export function timeOfDay(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : clock.format(date);
}

/** "m:ss" of ``ms`` milliseconds (0:00 if negative). */
export function clockTime(ms) {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export function onReady(fn) {
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fn, { once: true });
  } else {
    fn();
  }
}

/** JSON passed by Django's json_script, or `fallback`. */
export function jsonScript(id, fallback = null) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : fallback;
}

/** Keeps a scrolled list at its bottom if the reader had not scrolled up. */
export function stickToBottom(list, change) {
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  change();
  if (atBottom) list.scrollTop = list.scrollHeight;
}

/** `find(id)`: the element of that id inside `root`. */
export function finder(root) {
  return (id) => root.querySelector(`#${id}`);
}

/** Shows `text` in a form's note; `kind` ("ok", "error") styles it. */
export function say(note, text, kind = "") {
  note.textContent = text;
  note.dataset.kind = kind;
}

/** What to tell someone whose microphone could not be opened (getUserMedia's error). */
export function microphoneProblem(error) {
  return error.name === "NotAllowedError"
    ? "The browser was not allowed to use the microphone. Allow it in the address bar."
    : `The microphone could not be opened (${error.name}).`;
}
