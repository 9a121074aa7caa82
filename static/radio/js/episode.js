/**
 * An episode page: the tracklist's links seek the player and play from
 * there. Without this script each link is a media fragment (#t=) of the
 * episode's MP3, which the browser opens at that time.
 */

import { onReady } from "./dom.js";

/** Play ``player`` from ``seconds``. */
export function seek(player, seconds) {
  player.currentTime = seconds;
  return player.play();
}

onReady(() => {
  const player = document.getElementById("episode-player");
  const tracklist = document.getElementById("tracklist");
  if (!player || !tracklist) return;
  tracklist.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-seek]");
    if (!link) return;
    event.preventDefault();
    seek(player, Number(link.dataset.seek)).catch(() => {
      // Autoplay refused: the player shows where it is, ready to play.
    });
  });
});
