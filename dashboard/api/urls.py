"""Dashboard API routes under /api/v1/ (filled by the dashboard issue)."""

urlpatterns: list = []
