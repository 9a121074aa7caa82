"""Webhooks of stations, the log of what was sent to them, and what the
watchers remember of each station to tell a change from a repeat."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from stations.models import Station

from .events import EVENTS

MAX_URL_CHARS = 500
MAX_SECRET_CHARS = 500
# A log entry's error is cut to this many characters.
MAX_ERROR_CHARS = 500


def validate_events(events: object) -> None:
    """Refuse anything but a non-empty list of known event names."""
    if not isinstance(events, list) or not events:
        raise ValidationError(_("Choose at least one event."))
    unknown = [name for name in events if name not in EVENTS]
    if unknown:
        raise ValidationError(
            _("Unknown events: %(unknown)s. Known: %(known)s."),
            params={
                "unknown": ", ".join(map(str, unknown)),
                "known": ", ".join(EVENTS),
            },
        )
    if len(set(events)) != len(events):
        raise ValidationError(_("Name each event once."))


class Webhook(models.Model):
    """A URL told of some of a station's events, in one of three shapes."""

    class Kind(models.TextChoices):
        GENERIC = "generic", _("JSON (signed)")
        DISCORD = "discord", _("Discord")
        MASTODON = "mastodon", _("Mastodon")

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="webhooks",
        verbose_name=_("station"),
    )
    url = models.URLField(
        _("URL"),
        max_length=MAX_URL_CHARS,
        help_text=_(
            "Where to send: a Discord webhook URL, a Mastodon instance "
            "(https://mastodon.example), or any URL that takes JSON."
        ),
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.GENERIC
    )
    events = models.JSONField(_("events"), validators=[validate_events])
    secret = models.CharField(
        _("secret"),
        max_length=MAX_SECRET_CHARS,
        blank=True,
        help_text=_(
            "JSON: the key that signs each body (X-Radio-Signature). "
            "Mastodon: the account's access token. Discord: none."
        ),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["station", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.station}: {self.get_kind_display()} {self.url}"


class Delivery(models.Model):
    """One event for one webhook: the outbox row, then its log entry."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")
        # A newer song_changed took its place before it was sent.
        SUPERSEDED = "superseded", _("superseded")

    webhook = models.ForeignKey(
        Webhook,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("webhook"),
    )
    event = models.CharField(_("event"), max_length=32)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When it was first due: song_changed are spaced from the one before.
    scheduled_for = models.DateTimeField(_("scheduled for"))
    next_attempt_at = models.DateTimeField(_("next attempt"))
    # A worker sending it holds it until then; afterwards another may.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    response_status = models.PositiveSmallIntegerField(
        _("response status"), null=True, blank=True
    )
    error = models.CharField(_("error"), max_length=MAX_ERROR_CHARS, blank=True)
    # Makes an event once-only per webhook (such as an episode's publication).
    dedupe_key = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"], name="webhooks_delivery_due_idx"
            ),
            models.Index(
                fields=["webhook", "-created_at"], name="webhooks_delivery_recent_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="webhooks_delivery_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook.url} ({self.status})"


class StationWatch(models.Model):
    """What the last event of a station said, so that each change is told
    once across workers: they compare and update it in one statement."""

    station = models.OneToOneField(
        Station, on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    online = models.BooleanField(default=False)
    # The live broadcast on now ("dj@started_at"), or empty.
    live = models.CharField(max_length=255, blank=True)
    listeners = models.PositiveIntegerField(default=0)
    listeners_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("station watch")
        verbose_name_plural = _("station watches")

    def __str__(self) -> str:
        return str(self.station)
