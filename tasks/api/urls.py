"""Tasks API routes under /api/v1/: tasks (seed 001), processes (seed 002), notifications, and
the tasks of one lead or contact. Paths work with and without a trailing slash (decision 2)."""

from django.urls import re_path

from crm.api.routers import OptionalSlashRouter
from tasks.api import views

router = OptionalSlashRouter()
router.register("tasks", views.TaskViewSet, basename="task")
router.register("processes", views.ProcessViewSet, basename="process")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [
    re_path(r"^leads/(?P<pk>[^/]+)/tasks/?$", views.LeadTasksView.as_view(), name="lead-tasks"),
    re_path(r"^contacts/(?P<pk>[^/]+)/tasks/?$", views.ContactTasksView.as_view(), name="contact-tasks"),
    *router.urls,
]
