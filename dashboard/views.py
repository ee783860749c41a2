"""Placeholder pages for the areas later issues build, so the navigation is complete today."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

# slug -> (title, what the area will do). The nav links to every slug here.
AREAS: dict[str, tuple[str, str]] = {
    "contacts": ("Contacts", "people you sell to, with the companies they work for and their full history."),
    "companies": ("Companies", "accounts with their contacts, leads and deal value in one place."),
    "tasks": ("Tasks", "to-dos and follow-up processes with channels, due dates and reminders."),
    "campaigns": ("Campaigns", "Meta ad campaigns with spend, cost per lead and ROAS, synced every 15 minutes."),
    "calls": ("Calls", "AI calling agents with business hours, scheduled calls, call history and metrics."),
    "dashboard": ("Dashboard", "KPIs and charts: pipeline value, won revenue, leads by source and conversion."),
}


@login_required
def coming_soon(request, area: str):
    """A page that says plainly what ``area`` will do once it is built."""
    if area not in AREAS:
        raise Http404
    title, what = AREAS[area]
    return render(request, "dashboard/coming_soon.html", {"area": area, "title": title, "what": what})
