"""Tasks pages (``tasks:*``): My tasks, the task form, the lead/contact panels, notifications."""

from django.urls import path

from tasks import views

app_name = "tasks"
urlpatterns = [
    path("tasks/", views.MyTasksView.as_view(), name="my_tasks"),
    path("tasks/new/", views.TaskCreateView.as_view(), name="task_create"),
    path("tasks/<uuid:pk>/edit/", views.TaskEditView.as_view(), name="task_edit"),
    path("tasks/<uuid:pk>/toggle/", views.TaskToggleView.as_view(), name="task_toggle"),
    path("tasks/<uuid:pk>/delete/", views.TaskDeleteView.as_view(), name="task_delete"),
    path("tasks/panel/lead/<uuid:pk>/", views.LeadPanelView.as_view(), name="lead_panel"),
    path("tasks/panel/lead/<uuid:pk>/processes/", views.LeadProcessCreateView.as_view(), name="lead_process_create"),
    path("tasks/panel/contact/<uuid:pk>/", views.ContactPanelView.as_view(), name="contact_panel"),
    path("tasks/processes/<uuid:pk>/status/", views.ProcessStatusView.as_view(), name="process_status"),
    path("notifications/", views.NotificationListView.as_view(), name="notification_list"),
    path("notifications/badge/", views.NotificationBadgeView.as_view(), name="notification_badge"),
    path("notifications/read-all/", views.NotificationReadAllView.as_view(), name="notification_read_all"),
    path("notifications/<uuid:pk>/open/", views.NotificationOpenView.as_view(), name="notification_open"),
    path("notifications/<uuid:pk>/read/", views.NotificationReadView.as_view(), name="notification_read"),
]
