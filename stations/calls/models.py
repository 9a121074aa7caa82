"""Listeners calling in to a station's DJs, and each station's rules for it."""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from radio.protocol import CALL_MAX_TEXT_CHARS
from stations.models import Station

# The longest time limit a station may set on a call.
MAX_CALL_LIMIT = timedelta(hours=2)
# The most callers a station may let wait.
MAX_WAITING_LIMIT = 50


class CallRules(models.Model):
    """Whether a station takes calls, and its limits.

    A station without a row takes none; the row is made with the defaults
    when the rules are first changed.
    """

    station = models.OneToOneField(
        Station,
        on_delete=models.CASCADE,
        related_name="call_rules",
        verbose_name=_("station"),
    )
    enabled = models.BooleanField(
        _("call-ins enabled"),
        default=False,
        help_text=_("Signed-in listeners may call the DJ from the station page."),
    )
    paused = models.BooleanField(
        _("paused"),
        default=False,
        help_text=_("Set by a DJ from the console: no new calls for now."),
    )
    time_limit = models.DurationField(
        _("time limit of a call"),
        default=timedelta(minutes=10),
        validators=[
            MinValueValidator(timedelta(seconds=1)),
            MaxValueValidator(MAX_CALL_LIMIT),
        ],
        help_text=_("From when the DJ answers; then the call ends."),
    )
    max_waiting = models.PositiveIntegerField(
        _("most callers waiting"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WAITING_LIMIT)],
    )

    class Meta:
        verbose_name = _("call-in rules")
        verbose_name_plural = _("call-in rules")

    def __str__(self) -> str:
        return f"Call-in rules of {self.station}"

    @property
    def open(self) -> bool:
        return self.enabled and not self.paused


class Call(models.Model):
    """A listener's call to a station, from raising a hand to hanging up.

    Only its facts are kept: who, when, how it ended. Its audio goes
    between the two browsers and never through the server.
    """

    class State(models.TextChoices):
        WAITING = "waiting", _("waiting")
        # Answered: the DJ and the caller talk off air.
        PRIVATE = "private", _("private")
        ON_AIR = "on_air", _("on air")
        HOLD = "hold", _("on hold")
        ENDED = "ended", _("ended")

    class End(models.TextChoices):
        CALLER = "caller", _("the caller hung up")
        DJ = "dj", _("the DJ hung up")
        DECLINED = "declined", _("declined")
        BLOCKED = "blocked", _("the caller was blocked")
        TIME_LIMIT = "time_limit", _("the time limit")
        DROPPED = "dropped", _("a connection dropped")
        REPLACED = "replaced", _("the caller called again")

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="calls",
        verbose_name=_("station"),
    )
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calls",
        verbose_name=_("caller"),
    )
    text = models.CharField(_("topic"), max_length=CALL_MAX_TEXT_CHARS, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.WAITING
    )
    dj = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    requested_at = models.DateTimeField(_("called"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(
        _("why it ended"), max_length=10, choices=End.choices, blank=True
    )
    # Where each side's socket hears of the call (``switchboard`` addresses).
    caller_address = models.CharField(max_length=200, editable=False)
    dj_address = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        ordering = ["requested_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "caller"],
                condition=~Q(state="ended"),
                name="one_open_call_per_caller",
            )
        ]
        indexes = [
            models.Index(
                fields=["station", "state"],
                condition=~Q(state="ended"),
                name="open_calls",
            )
        ]

    def __str__(self) -> str:
        return f"{self.caller} calling {self.station} ({self.state})"


class CallerBlock(models.Model):
    """A user a station's DJs no longer take calls from."""

    station = models.ForeignKey(
        Station,
        on_delete=models.CASCADE,
        related_name="caller_blocks",
        verbose_name=_("station"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    blocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("blocked by"),
    )
    created_at = models.DateTimeField(_("blocked"), auto_now_add=True)

    class Meta:
        verbose_name = _("blocked caller")
        verbose_name_plural = _("blocked callers")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "user"], name="one_block_per_caller"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} blocked from calling {self.station}"
