"""Campaigns API routes under /api/v1/ (filled by the campaigns issue)."""

urlpatterns: list = []
