import functools
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from radio.protocol import CHAT_MAX_CHARS

_timezone_names = functools.cache(available_timezones)


def validate_timezone(name: str) -> None:
    """Refuse a time zone name that the IANA database does not know."""
    if name not in _timezone_names():
        raise ValidationError(
            _("%(name)s is not a time zone name (such as Europe/Berlin)."),
            params={"name": name},
        )


class Station(models.Model):
    """A room with one stream of audio that all its listeners hear."""

    class Bitrate(models.IntegerChoices):
        KBPS_64 = 64, "64 kbit/s"
        KBPS_96 = 96, "96 kbit/s"
        KBPS_128 = 128, "128 kbit/s"
        KBPS_192 = 192, "192 kbit/s"
        KBPS_256 = 256, "256 kbit/s"
        KBPS_320 = 320, "320 kbit/s"

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    bitrate = models.PositiveIntegerField(
        _("bitrate"),
        choices=Bitrate.choices,
        default=Bitrate.KBPS_128,
        help_text=_("MP3 bitrate of the station's output, in kbit/s."),
        validators=[MinValueValidator(32), MaxValueValidator(320)],
    )
    djs = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("DJs"),
        related_name="dj_stations",
        blank=True,
        help_text=_("Users who may broadcast on this station."),
    )
    source_password = models.CharField(
        _("source password"),
        max_length=128,
        blank=True,
        help_text=_(
            'Hashed. Encoders (BUTT, Mixxx, ffmpeg) may send audio as user "source" '
            "with it; blank: they may not."
        ),
    )
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text=_(
            'The time zone of the schedule (IANA name, e.g. "Europe/Berlin"); '
            "weekly slots keep their local start time across daylight-saving changes."
        ),
    )
    slots_enforced = models.BooleanField(
        _("DJs keep to their slots"),
        default=False,
        help_text=_(
            "A DJ may go live only in a slot of a show they host, and is taken "
            "off air after it ends. Staff may always go live."
        ),
    )
    record_broadcasts = models.BooleanField(
        _("record live broadcasts"),
        default=True,
        help_text=_("Every live broadcast is recorded into the station's archive."),
    )
    max_listeners = models.PositiveIntegerField(
        _("most listeners"),
        default=0,
        help_text=_(
            "Listeners the station takes at once (player pages and stream.mp3, "
            "on all workers); more are refused until one leaves. DJs' consoles "
            "do not count. 0: no limit."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("station")
        verbose_name_plural = _("stations")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("stations:listen", kwargs={"slug": self.slug})

    @property
    def zone(self) -> ZoneInfo:
        """The station's time zone."""
        return ZoneInfo(self.timezone)

    def set_source_password(self, raw: str | None) -> None:
        """Hash ``raw`` as the source password; None or empty removes it."""
        self.source_password = make_password(raw) if raw else ""

    def check_source_password(self, raw: str) -> bool:
        """Whether ``raw`` is the source password; never, when there is none."""
        return bool(self.source_password) and check_password(raw, self.source_password)


class ChatMessage(models.Model):
    """A message someone sent to a station's chat room.

    The text is kept as sent; clients render it as text, never as HTML.
    Moderators delete a message by setting ``deleted_at``.
    """

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="chat_messages",
        verbose_name=_("station"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="chat_messages",
        verbose_name=_("user"),
    )
    text = models.CharField(_("text"), max_length=CHAT_MAX_CHARS)
    by_dj = models.BooleanField(
        _("sent by a DJ"),
        default=False,
        help_text=_("The sender was a DJ of the station: listeners see a badge."),
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    deleted_at = models.DateTimeField(
        _("deleted"),
        null=True,
        blank=True,
        help_text=_("When a moderator removed the message from the chat."),
    )

    class Meta:
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The history a joining listener gets: a station's latest.
            models.Index(
                fields=["station", "-created_at", "-id"],
                name="stations_chat_recent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.station}: {self.text[:50]}"


class StationMute(models.Model):
    """A user whose chat messages a station refuses."""

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="mutes",
        verbose_name=_("station"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="station_mutes",
        verbose_name=_("user"),
    )
    muted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("muted by"),
    )
    created_at = models.DateTimeField(_("muted"), auto_now_add=True)

    class Meta:
        verbose_name = _("station mute")
        verbose_name_plural = _("station mutes")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "user"], name="stations_mute_unique_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} muted in {self.station}"
