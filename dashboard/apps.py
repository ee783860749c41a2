from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"

    def ready(self):
        from dashboard import receivers  # noqa: F401  (rollups follow lead saves)
