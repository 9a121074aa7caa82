"""Files that make ffmpeg open other files and URLs, and a server that notices.

Uploaded as tracks, playlists are how a file on disk makes ffmpeg fetch a
URL: the tests prove that no request ever reaches :class:`RequestRecorder`.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

# Every playlist make_playlists() writes.
PLAYLIST_NAMES = (
    "playlist.m3u8",
    "disguised.mp3",
    "remote.m3u8",
    "local.m3u8",
    "playlist.m3u",
    "playlist.ffconcat",
    "manifest.mpd",
)


class RequestRecorder:
    """An HTTP server on 127.0.0.1 that records every connection to it.

    Use as ``with RequestRecorder() as server:``; ``server.url`` is its
    address and ``server.connections`` who connected, whether or not they
    sent a whole HTTP request.
    """

    def __init__(self) -> None:
        self.connections: list[tuple[str, int]] = []
        self.paths: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.paths.append(self.path)
                self.send_error(404)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def verify_request(self, request, client_address) -> bool:
                recorder.connections.append(client_address)
                return True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RequestRecorder:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def make_playlists(folder: Path, *, audio: Path, url: str) -> dict[str, Path]:
    """Playlists of ``audio`` (a real file on this machine) and of ``url``.

    Each is named as an uploader would name it. "disguised.mp3" is an HLS
    playlist under an audio name (ffmpeg goes by what a file holds) whose
    segments have the same extension, so that ffmpeg plays the first one
    and then reports what it met at the URL.
    """
    contents = {
        "playlist.m3u8": hls_playlist(str(audio), f"{url}/seg.ts"),
        "disguised.mp3": hls_playlist(str(audio), f"{url}/tune.mp3"),
        "remote.m3u8": hls_playlist(f"{url}/seg.ts"),
        "local.m3u8": hls_playlist(str(audio)),
        "playlist.m3u": f"#EXTM3U\n#EXTINF:3,Tune\n{url}/tune.mp3\n",
        "playlist.ffconcat": (
            f"ffconcat version 1.0\nfile '{audio}'\nfile '{url}/tune.mp3'\n"
        ),
        "manifest.mpd": dash_manifest(f"{url}/dash/"),
    }
    assert tuple(contents) == PLAYLIST_NAMES
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in contents.items():
        (folder / name).write_text(text)
    return {name: folder / name for name in contents}


def hls_playlist(*segments: str) -> str:
    """An HLS media playlist of ``segments``, each said to last 3 s."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:3"]
    for segment in segments:
        lines += ["#EXTINF:3.0,", segment]
    return "\n".join([*lines, "#EXT-X-ENDLIST", ""])


def dash_manifest(base_url: str) -> str:
    """A DASH manifest of one audio representation under ``base_url``."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"
     mediaPresentationDuration="PT3S" minBufferTime="PT1S"
     profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <BaseURL>{base_url}</BaseURL>
  <Period><AdaptationSet mimeType="audio/mp4">
    <Representation id="audio" bandwidth="128000" codecs="mp4a.40.2">
      <BaseURL>audio.mp4</BaseURL>
    </Representation>
  </AdaptationSet></Period>
</MPD>
"""
