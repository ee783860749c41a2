"""Tasks pages (filled by the tasks issue)."""

app_name = "tasks"
urlpatterns: list = []
