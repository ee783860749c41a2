"""Contacts pages (filled by the contacts issue)."""

app_name = "contacts"
urlpatterns: list = []
