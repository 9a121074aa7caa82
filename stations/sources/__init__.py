"""Encoders (BUTT, Mixxx, ffmpeg, Liquidsoap, OBS) as Icecast and Shoutcast sources."""
