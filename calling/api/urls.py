"""Calling API routes under /api/v1/ (filled by the calling issue)."""

urlpatterns: list = []
