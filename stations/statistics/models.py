"""A listening session: one listener's connection to a station, from join
to leave, as recorded by ``recorder.py``."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from stations.models import Station


class Transport(models.TextChoices):
    WEBSOCKET = "websocket", _("WebSocket (listener page)")
    HTTP = "http", _("HTTP (stream.mp3)")


class ClientKind(models.TextChoices):
    BROWSER = "browser", _("Browser")
    MOBILE_APP = "mobile_app", _("Mobile app")
    VLC = "vlc", _("VLC")
    APPLE = "apple", _("iTunes / Apple")
    ANDROID = "android", _("Android")
    WINAMP = "winamp", _("Winamp / foobar2000")
    BOT = "bot", _("Bot")
    OTHER = "other", _("Other")


class ListeningSession(models.Model):
    """Someone listened to ``station`` from ``started_at`` to ``ended_at``.

    The client's address is kept only as a salted hash (``privacy.py``), to
    count unique listeners.
    """

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="listening_sessions",
        verbose_name=_("station"),
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"))
    duration_s = models.FloatField(
        _("duration"), help_text=_("Seconds, measured by the server's clock.")
    )
    transport = models.CharField(_("transport"), max_length=9, choices=Transport)
    client_kind = models.CharField(_("client"), max_length=10, choices=ClientKind)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="listening_sessions",
        verbose_name=_("user"),
    )
    address_hash = models.CharField(
        _("address hash"),
        max_length=64,
        help_text=_("HMAC-SHA256 of the client's address; never the address."),
    )

    class Meta:
        verbose_name = _("listening session")
        verbose_name_plural = _("listening sessions")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(
                fields=["station", "started_at"], name="statistics_session_start_idx"
            ),
            models.Index(
                fields=["station", "ended_at"], name="statistics_session_end_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M}, {self.duration_s:.0f} s"
