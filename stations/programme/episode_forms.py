from django import forms

from .models import Episode


class EpisodeForm(forms.ModelForm):
    """What a station's DJs may change of an episode."""

    class Meta:
        model = Episode
        fields = ["title", "published"]
