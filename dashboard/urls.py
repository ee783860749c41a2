"""Placeholder pages (``dashboard:coming_soon`` with an area slug) until their issues land."""

from django.urls import re_path

from dashboard import views

app_name = "dashboard"
# Only the known slugs match, so this never swallows other top-level URLs.
_areas = "|".join(views.AREAS)
urlpatterns = [
    re_path(rf"^(?P<area>{_areas})/$", views.coming_soon, name="coming_soon"),
]
