"""The studio's forms: a station's shows and their slots, its episodes."""

from __future__ import annotations

from datetime import datetime

from django import forms

from stations.models import Station

from .models import MAX_SLOT_MINUTES, Episode, Show, Slot


class ShowForm(forms.Form):
    name = forms.CharField(max_length=Show._meta.get_field("name").max_length)
    description = forms.CharField(
        required=False,
        max_length=Show._meta.get_field("description").max_length,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    hosts = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, station: Station, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["hosts"].queryset = station.djs.filter(is_active=True).order_by(
            "username"
        )


class SlotForm(forms.Form):
    """A weekly slot (a weekday) or a one-off (a date), at a local time."""

    kind = forms.ChoiceField(
        choices=Slot.Kind.choices, initial=Slot.Kind.WEEKLY, widget=forms.RadioSelect
    )
    weekday = forms.TypedChoiceField(
        choices=[("", "—"), *Slot.Weekday.choices],
        coerce=int,
        required=False,
        empty_value=None,
        help_text="Weekly slots.",
    )
    date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="One-off slots.",
    )
    start = forms.TimeField(
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text="In the station's time zone.",
    )
    minutes = forms.IntegerField(min_value=1, max_value=MAX_SLOT_MINUTES, initial=60)

    def clean(self) -> dict:
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == Slot.Kind.WEEKLY and cleaned.get("weekday") is None:
            self.add_error("weekday", "A weekly slot needs its weekday.")
        if kind == Slot.Kind.ONCE and cleaned.get("date") is None:
            self.add_error("date", "A one-off slot needs its date.")
        return cleaned

    def local_start(self) -> datetime:
        return datetime.combine(self.cleaned_data["date"], self.cleaned_data["start"])


class EpisodeForm(forms.ModelForm):
    """What a station's DJs may change of an episode."""

    class Meta:
        model = Episode
        fields = ["title", "published"]
