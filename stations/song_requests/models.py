"""Listeners' song requests, and each station's rules for them."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stations.library.models import Track
from stations.models import Station

# The longest any of the rules' waits may be set to: a week.
MAX_RULE_MINUTES = 7 * 24 * 60
# The most pending requests a station may allow.
MAX_PENDING_LIMIT = 100


class RequestRules(models.Model):
    """Whether a station takes requests, and the limits it sets on them.

    A station without a row takes none; the row is made with the defaults
    when the rules are first read for a change.
    """

    station = models.OneToOneField(
        Station,
        on_delete=models.CASCADE,
        related_name="request_rules",
        verbose_name=_("station"),
    )
    enabled = models.BooleanField(
        _("requests enabled"),
        default=False,
        help_text=_("Signed-in listeners may request tracks of the AutoDJ library."),
    )
    per_user_minutes = models.PositiveIntegerField(
        _("minutes between a listener's requests"),
        default=5,
        validators=[MaxValueValidator(MAX_RULE_MINUTES)],
    )
    repeat_minutes = models.PositiveIntegerField(
        _("minutes before a track may be requested again"),
        default=60,
        validators=[MaxValueValidator(MAX_RULE_MINUTES)],
        help_text=_("Counted from when it was last played or requested."),
    )
    max_pending = models.PositiveIntegerField(
        _("most pending requests"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PENDING_LIMIT)],
    )
    artist_separation = models.BooleanField(
        _("artist separation"),
        default=True,
        help_text=_("Refuse a request of the same artist as the last one queued."),
    )

    class Meta:
        verbose_name = _("request rules")
        verbose_name_plural = _("request rules")

    def __str__(self) -> str:
        return f"Request rules of {self.station}"


class SongRequest(models.Model):
    """A listener asking a station to play a track of its library."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PLAYED = "played", _("played")
        SKIPPED = "skipped", _("skipped")
        DECLINED = "declined", _("declined")

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="song_requests",
        verbose_name=_("station"),
    )
    track = models.ForeignKey(
        Track,
        on_delete=models.CASCADE,
        related_name="requests",
        verbose_name=_("track"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="song_requests",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(
        _("requested"), default=timezone.now, editable=False
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    # When the AutoDJ picked it to play next; it stays pending until heard.
    cued_at = models.DateTimeField(_("cued"), null=True, blank=True, editable=False)
    # When a DJ (or the AutoDJ, by playing it) decided on it.
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    played_at = models.DateTimeField(_("played"), null=True, blank=True)

    class Meta:
        verbose_name = _("song request")
        verbose_name_plural = _("song requests")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["station", "status", "created_at"],
                name="song_request_queue_idx",
            ),
            models.Index(fields=["user", "created_at"], name="song_request_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.track} for {self.user} ({self.status})"
