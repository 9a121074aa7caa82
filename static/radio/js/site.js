/**
 * What every page has: for signed-in users, the inbox in the header.
 *
 *   import { siteInbox } from "./site.js";
 *   siteInbox   // the page's InboxClient (already open), or null when
 *               // nobody is signed in; pages send private messages with it
 *
 * Module scripts run once the document is parsed, so the elements exist.
 */

import { InboxClient, InboxPanel } from "./inbox.js";

function start() {
  const root = document.getElementById("inbox");
  if (!root) return null;
  const client = new InboxClient();
  const toggle = document.getElementById("inbox-toggle");
  const panel = new InboxPanel(root, client, { toggle, me: root.dataset.user });
  root.querySelector("[data-close]")?.addEventListener("click", () => {
    panel.setOpen(false);
    toggle.focus();
  });
  client.open();
  return client;
}

export const siteInbox = start();
