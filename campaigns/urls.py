"""Campaigns pages (filled by the campaigns issue)."""

app_name = "campaigns"
urlpatterns: list = []
