"""Calling pages (filled by the calling issue)."""

app_name = "calling"
urlpatterns: list = []
