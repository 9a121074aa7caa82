"""System checks that catch a misconfigured deployment early."""

import shutil

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_ffmpeg(app_configs, **kwargs):
    """ffmpeg and ffprobe are needed to transcode DJs and read uploads."""
    missing = [
        name for name in (settings.RADIO_FFMPEG, "ffprobe") if not shutil.which(name)
    ]
    if not missing:
        return []
    return [
        Error(
            f"{', '.join(missing)} not found on PATH.",
            hint="Install ffmpeg (Debian: apt-get install -y ffmpeg).",
            id="stations.E001",
        )
    ]


@register(deploy=True)
def check_channel_layer(app_configs, **kwargs):
    """Several workers need Redis; the in-memory layer is one process only."""
    if settings.REDIS_URL:
        return []
    return [
        Warning(
            "REDIS_URL is not set: stations, chat and inboxes work in one process.",
            hint="Set REDIS_URL to run several daphne workers (docs/OPERATIONS.md).",
            id="stations.W001",
        )
    ]
