"""What ffmpeg and ffprobe may open: the options every call of them passes.

ffmpeg picks a demuxer by what a file holds, whatever its name, and some
demuxers open whatever the file lists: hls and dash (playlists of files
and URLs), concat, and more. An uploaded playlist could then make the
server fetch URLs, or play any audio file on its disks, and ffmpeg's
errors would tell the uploader what it met there. So each input and each
piped output names the protocols it may use, and each input the demuxers
it may be read with.

A demuxer's nested opens inherit the input's protocol whitelist: with
``-protocol_whitelist file`` an HLS playlist's ``http://`` segment is
refused without a connection (checked with ffmpeg 5.1).
"""

from __future__ import annotations

# A file on disk, and nothing it points to elsewhere.
FILE_PROTOCOLS = "file"
# Our own end of a pipe: live input on stdin, encoded output on stdout.
PIPE_PROTOCOLS = "pipe"
# The audio containers a library file, or input of no named format, may be
# in, as ``ffmpeg -demuxers`` names them. A demuxer with several names
# ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm") is allowed by any one of
# them. No demuxer that opens other files (hls, dash, concat, image2...)
# may be here.
AUDIO_DEMUXERS = (
    "aac",  # raw ADTS AAC
    "aiff",
    "caf",  # Apple's Core Audio Format, as ALAC comes
    "flac",
    "matroska",  # .mka, .webm
    "mov",  # .m4a, .mp4: AAC, ALAC
    "mp3",
    "ogg",  # Vorbis, Opus, FLAC in Ogg
    "w64",
    "wav",
    "wv",  # WavPack
)


def library_file_input(path: str) -> list[str]:
    """``-i path`` for ffmpeg or ffprobe, reading that audio file and no other."""
    return [
        "-protocol_whitelist", FILE_PROTOCOLS,
        "-format_whitelist", ",".join(AUDIO_DEMUXERS),
        "-i", path,
    ]  # fmt: skip


def pipe_input(demuxer: str | None, *demuxer_options: str) -> list[str]:
    """``-i pipe:0`` read as ``demuxer``, with options such as ``-ar 44100``.

    Without a demuxer ffmpeg guesses, among :data:`AUDIO_DEMUXERS` only.
    """
    if demuxer is None:
        formats = ["-format_whitelist", ",".join(AUDIO_DEMUXERS)]
    else:
        formats = ["-f", demuxer]
    return [
        "-protocol_whitelist", PIPE_PROTOCOLS,
        *formats, *demuxer_options,
        "-i", "pipe:0",
    ]  # fmt: skip


def pipe_output() -> list[str]:
    """The output ``pipe:1``, last on the command line, and nowhere else."""
    return ["-protocol_whitelist", PIPE_PROTOCOLS, "pipe:1"]
