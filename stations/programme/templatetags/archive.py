from django import template

from ..archive import clock as clock_text

register = template.Library()


@register.filter
def clock(milliseconds: int | float | None) -> str:
    """``{{ episode.duration_ms|clock }}``: "4:05", "1:02:03"."""
    return clock_text(milliseconds)


@register.filter
def seconds(milliseconds: int | float | None) -> str:
    """Milliseconds as seconds for a media fragment (``#t=12.345``)."""
    return f"{(milliseconds or 0) / 1000:.3f}"
