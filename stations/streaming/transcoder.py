"""Long-lived ffmpeg processes: the MP3 encoder of a live input, and others.

Feed the input with write() while another task drains the output with
read(): ffmpeg blocks once its stdout pipe is full, and then stops reading
its input, so a writer without a reader deadlocks.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections import deque
from contextlib import suppress
from types import TracebackType

from .ffmpeg_whitelists import pipe_input, pipe_output
from .packets import OUTPUT_CHANNELS, OUTPUT_SAMPLE_RATE

logger = logging.getLogger(__name__)

# Normalised MIME type (see normalise_mime) -> ffmpeg demuxer.
INPUT_FORMATS: dict[str, str] = {
    # AAC in ADTS frames, as Icecast sources send it (aacp: HE-AAC).
    "audio/aac": "aac",
    "audio/aacp": "aac",
    "audio/x-aac": "aac",
    "audio/webm;codecs=opus": "webm",
    "audio/webm": "webm",
    "audio/ogg;codecs=opus": "ogg",
    "audio/ogg": "ogg",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
}
# Raw input for the encoder: 16-bit little-endian interleaved samples.
PCM_FORMAT = "s16le"
READ_CHUNK_BYTES = 16 * 1024  # most bytes one read() returns
STDERR_TAIL_LINES = 20  # ffmpeg stderr lines kept for error messages
CLOSE_TIMEOUT_SECS = 5.0  # time ffmpeg gets to flush and exit on aclose()
STDERR_GRACE_SECS = 1.0  # time a dead ffmpeg gets to finish its last words
# How much input ffmpeg analyses before decoding, in microseconds (0 would
# mean its default, 5 s): the least it takes.
ANALYZE_US = 1


def normalise_mime(mime: str) -> str:
    """Lowercase a MIME type and drop the spaces around its ``;``."""
    return ";".join(part.strip() for part in mime.lower().split(";"))


class TranscoderError(RuntimeError):
    """ffmpeg could not be started, or failed while transcoding."""


class FfmpegProcess:
    """An ffmpeg subprocess with ``args``, its input and output piped.

    Use as ``async with FfmpegProcess(...) as ffmpeg:``, or call start() and
    then aclose() or kill(), which always reap the process.
    """

    def __init__(self, args: list[str]) -> None:
        self._args = args
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._stderr_task: asyncio.Task[None] | None = None
        # Only one coroutine may read stdout at a time; aclose() takes the
        # lock to discard the output nobody read.
        self._read_lock = asyncio.Lock()
        self._closing = False

    @property
    def pid(self) -> int | None:
        """The ffmpeg process id, once started."""
        return None if self._proc is None else self._proc.pid

    @property
    def returncode(self) -> int | None:
        """ffmpeg's exit status once it has exited (negative: killed by a signal)."""
        return None if self._proc is None else self._proc.returncode

    async def start(self) -> None:
        """Start ffmpeg."""
        if self._proc is not None:
            raise RuntimeError("This ffmpeg process was already started.")
        try:
            # A session of its own keeps ffmpeg away from the terminal's
            # Ctrl-C: the server decides when it stops.
            self._proc = await asyncio.create_subprocess_exec(
                *self._args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise TranscoderError(
                f"Cannot run {self._args[0]!r}: install ffmpeg "
                "(apt install ffmpeg) or pass its path as ffmpeg=."
            ) from exc
        self._stderr_task = asyncio.create_task(self._collect_stderr())
        logger.info("Started ffmpeg pid %s: %s", self.pid, shlex.join(self._args))

    async def write(self, data: bytes) -> None:
        """Send input bytes to ffmpeg, waiting while its input pipe is full.

        Raises TranscoderError if ffmpeg has exited or was closed.
        """
        proc = self._started()
        if proc.returncode is not None or proc.stdin.is_closing():
            raise await self._failure("ffmpeg is not running")
        try:
            proc.stdin.write(data)
            await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise await self._failure("ffmpeg stopped reading its input") from exc

    async def read(self) -> bytes:
        """Return the next chunk of MP3 bytes, or b"" at the end of the stream.

        Raises TranscoderError if ffmpeg failed, unless aclose() stopped it.
        """
        proc = self._started()
        async with self._read_lock:
            data = await proc.stdout.read(READ_CHUNK_BYTES)
        if data or self._closing:
            return data
        if await proc.wait() != 0:
            raise await self._failure("ffmpeg failed")
        return b""

    async def aclose(self, timeout_s: float = CLOSE_TIMEOUT_SECS) -> None:
        """End ffmpeg's input and wait for it to flush and exit.

        Output not read yet can still be read afterwards. ffmpeg is killed,
        and its unread output discarded, if it has not exited after
        ``timeout_s`` seconds or if this coroutine is cancelled.
        """
        proc = self._proc
        if proc is None:
            return
        self._closing = True
        exited = False
        try:
            proc.stdin.close()
            async with asyncio.timeout(timeout_s):
                await proc.wait()
            exited = True
        except TimeoutError:
            logger.warning(
                "ffmpeg pid %s did not exit %s s after its input ended; killing it",
                proc.pid,
                timeout_s,
            )
        finally:
            if not exited:
                await self._kill(proc)
            await self._stderr_task
        logger.info("ffmpeg pid %s exited with %s", proc.pid, proc.returncode)

    async def kill(self) -> None:
        """Stop ffmpeg at once, discarding its output, and reap it."""
        proc = self._proc
        if proc is None:
            return
        # The process's transport lives until every pipe is closed.
        proc.stdin.close()
        if proc.returncode is None:
            self._closing = True
            await self._kill(proc)
        await self._stderr_task

    async def __aenter__(self) -> FfmpegProcess:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _started(self) -> asyncio.subprocess.Process:
        if self._proc is None:
            raise RuntimeError("Call start() first.")
        return self._proc

    async def _kill(self, proc: asyncio.subprocess.Process) -> None:
        """Kill ffmpeg and reap it, discarding the output nobody read."""
        with suppress(ProcessLookupError):
            proc.kill()
        # A wait() begun before ffmpeg exits returns only once every pipe has
        # closed, and stdout stays open while unread output fills it.
        async with self._read_lock:
            while await proc.stdout.read(READ_CHUNK_BYTES):
                pass
        await proc.wait()

    async def _collect_stderr(self) -> None:
        """Keep ffmpeg's last stderr lines for error messages."""
        while line := await self._proc.stderr.readline():
            text = line.decode(errors="replace").rstrip()
            self._stderr_tail.append(text)
            logger.debug("ffmpeg pid %s: %s", self.pid, text)

    async def _failure(self, reason: str) -> TranscoderError:
        """Build an error carrying the last lines ffmpeg wrote to stderr."""
        # A dying ffmpeg may not have flushed its stderr yet.
        await asyncio.wait([self._stderr_task], timeout=STDERR_GRACE_SECS)
        if self.returncode is not None:
            reason += f" (exit status {self.returncode})"
        tail = " | ".join(self._stderr_tail) or "nothing on stderr"
        return TranscoderError(f"{reason}: {tail}")


class Transcoder(FfmpegProcess):
    """ffmpeg encoding the bytes written to it as the station's MP3.

    ``input_format`` is an ffmpeg demuxer, None to let ffmpeg guess among
    audio demuxers, or :data:`PCM_FORMAT` for raw samples at
    ``sample_rate`` and ``channels``. Without the bit ``reservoir`` each
    MP3 frame leaves the encoder as soon as it is encoded, about 50 ms
    sooner, at some cost in quality.
    """

    def __init__(
        self,
        *,
        input_format: str | None,
        bitrate_kbps: int,
        sample_rate: int = OUTPUT_SAMPLE_RATE,
        channels: int = OUTPUT_CHANNELS,
        reservoir: bool = True,
        ffmpeg: str = "ffmpeg",
    ) -> None:
        # ffmpeg decodes nothing until it has analysed the input, by default
        # for 5 s of it (which -analyzeduration 0 also means) or until it
        # has read -probesize: 0.8 s of 320 kbit/s MP3. The format is known
        # by then (named, or guessed from the first bytes beforehand), so the
        # analysis stops at the first packet, and the packets read for it
        # are decoded afterwards. (Not -fflags +nobuffer: it drops them.)
        args = [ffmpeg, "-hide_banner", "-loglevel", "warning"]
        args += ["-probesize", "32k", "-analyzeduration", str(ANALYZE_US)]
        raw_layout = ["-ar", str(sample_rate), "-ac", str(channels)]
        args += pipe_input(
            input_format, *(raw_layout if input_format == PCM_FORMAT else [])
        )
        args += ["-vn", "-ac", str(channels)]
        args += ["-ar", str(sample_rate), "-c:a", "libmp3lame"]
        args += ["-b:a", f"{bitrate_kbps}k", "-reservoir", str(int(reservoir))]
        args += ["-f", "mp3"]
        args += ["-id3v2_version", "0", "-write_xing", "0"]
        args += ["-flush_packets", "1", *pipe_output()]
        super().__init__(args)
