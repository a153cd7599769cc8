"""Template filters of the checks pages."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.timesince import timesince, timeuntil

from checks.dashboard import display

register = template.Library()


@register.filter
def hc_duration(td: timedelta | None) -> str:
    return display.format_duration(td) if td is not None else ""


@register.filter
def hc_short_duration(td: timedelta | None) -> str:
    return display.short_duration(td) if td is not None else ""


@register.filter
def status_label(status: str) -> str:
    return display.STATUS_LABELS.get(status, status)


@register.filter
def relative(moment: datetime | None) -> str:
    """ "3 minutes ago" / "in 2 hours" / "never", relative to now."""
    if moment is None:
        return "never"
    now = timezone.now()
    if moment <= now:
        if now - moment < timedelta(minutes=1):
            return "just now"
        text = f"{timesince(moment, now, depth=1)} ago"
    else:
        text = f"in {timeuntil(moment, now, depth=1)}"
    # Django joins number and unit with a no-break space; plain spaces read the same.
    return text.replace("\xa0", " ")
