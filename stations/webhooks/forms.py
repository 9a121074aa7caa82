"""The studio's form for a new webhook."""

from __future__ import annotations

from django import forms

from .events import EVENTS
from .models import MAX_SECRET_CHARS, MAX_URL_CHARS, Webhook


class WebhookForm(forms.Form):
    url = forms.URLField(
        label="URL",
        max_length=MAX_URL_CHARS,
        assume_scheme="https",
        help_text=Webhook._meta.get_field("url").help_text,
    )
    kind = forms.ChoiceField(choices=Webhook.Kind.choices, initial=Webhook.Kind.GENERIC)
    events = forms.MultipleChoiceField(
        choices=[(name, name.replace("_", " ")) for name in EVENTS],
        widget=forms.CheckboxSelectMultiple,
    )
    secret = forms.CharField(
        required=False,
        max_length=MAX_SECRET_CHARS,
        widget=forms.PasswordInput,
        help_text=Webhook._meta.get_field("secret").help_text,
    )
