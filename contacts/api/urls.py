"""Contacts API routes under /api/v1/ (filled by the contacts issue)."""

urlpatterns: list = []
