"""Task, process and notification endpoints. Thin: scope the queryset, validate, call a service.

Scoping: ``Task.objects.visible_to`` / ``Process.objects.visible_to`` (another user's record is a
404, never a 403); notifications are always the caller's own.
"""

import uuid

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from crm import notifications
from crm.api.lookups import get_by_uuid_or_404
from crm.api.pagination import check_list_query
from crm.errors import NotFound
from leads.api.serializers import ActionSerializer
from leads.models import Lead
from tasks import services
from tasks.api.serializers import (
    NestedTaskSerializer,
    NotificationSerializer,
    ProcessActionSerializer,
    ProcessSerializer,
    TaskSerializer,
    process_to_dict,
    task_to_dict,
)
from tasks.filters import ProcessFilterSet, TaskFilterSet
from tasks.models import Process, Task, visible_contacts

Message = inline_serializer("TaskMessage", {"message": serializers.CharField()})


def _filtered(filterset_class, request, queryset):
    filterset = filterset_class(request.query_params, queryset=queryset, request=request)
    check_list_query(request, filterset)
    return filterset.qs


class TaskViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """``/api/v1/tasks`` (seed 001 E): list with filters (completed, priority, assignee=me|none|id,
    related_to_type/related_to_id, due_before/due_after, overdue), ``search``, ``ordering``
    (``due_date``, ``priority`` = rank, ``created_at``) and pagination; create; read; update
    (PUT and PATCH both partial; ``{"completed": true}`` checks a task off); delete."""

    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return Task.objects.visible_to(self.request.user).with_list_related()

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return _filtered(TaskFilterSet, self.request, queryset)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        now = timezone.now()
        return self.get_paginated_response([task_to_dict(task, now) for task in page])

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        serializer = TaskSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = services.task_create(user=request.user, **serializer.validated_data)
        return Response(task_to_dict(self.get_queryset().get(pk=task.pk)), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        task = self.get_object()
        serializer = TaskSerializer(task, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        task = services.task_update(task=task, user=request.user, **serializer.validated_data)
        return Response(task_to_dict(self.get_queryset().get(pk=task.pk)))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    @extend_schema(responses={200: Message})
    def destroy(self, request, *args, **kwargs):
        services.task_delete(task=self.get_object(), user=request.user)
        return Response({"message": "Task deleted"})


class RelatedTasksView(GenericAPIView):
    """Tasks of one lead or contact: GET lists them (the task list's filters apply), POST adds
    one relating to it. The record must be visible to the caller (else 404)."""

    serializer_class = NestedTaskSerializer
    filterset_class = None
    related_type = ""

    def related_object(self):
        raise NotImplementedError

    def get_queryset(self):
        return Task.objects.visible_to(self.request.user).with_list_related()

    @extend_schema(parameters=[OpenApiParameter(name, OpenApiTypes.STR, description=desc) for name, desc in (
        ("completed", "true or false"), ("priority", "low, medium, high (comma-separated)"),
        ("assignee", "a user id, me or none"), ("overdue", "true: open and past due"),
        ("search", "text in the title"), ("ordering", "due_date, priority, created_at (- for descending)"),
    )])
    def get(self, request, *args, **kwargs):
        obj = self.related_object()
        queryset = self.get_queryset().filter(**{self.related_type: obj})
        page = self.paginate_queryset(_filtered(TaskFilterSet, request, queryset))
        now = timezone.now()
        return self.get_paginated_response([task_to_dict(task, now) for task in page])

    @extend_schema(responses={201: TaskSerializer})
    def post(self, request, *args, **kwargs):
        obj = self.related_object()
        serializer = NestedTaskSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = services.task_create(user=request.user, related_to_type=self.related_type, related_to_id=obj.pk,
                                    **serializer.validated_data)
        return Response(task_to_dict(self.get_queryset().get(pk=task.pk)), status=status.HTTP_201_CREATED)


class LeadTasksView(RelatedTasksView):
    """``/api/v1/leads/{id}/tasks``: the lead's tasks; POST adds one to the lead."""

    related_type = "lead"

    def related_object(self):
        lead = Lead.objects.visible_to(self.request.user).filter(pk=_uuid_or_404(self.kwargs["pk"], "lead")).first()
        if lead is None:
            raise NotFound("Lead not found", code="lead_not_found")
        return lead


class ContactTasksView(RelatedTasksView):
    """``/api/v1/contacts/{id}/tasks``: the contact's tasks; POST adds one to the contact."""

    related_type = "contact"

    def related_object(self):
        pk = _uuid_or_404(self.kwargs["pk"], "contact")
        contact = visible_contacts(self.request.user).filter(pk=pk).first()
        if contact is None:
            raise NotFound("Contact not found", code="contact_not_found")
        return contact


def _uuid_or_404(value, what: str):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(f"{what.capitalize()} not found", code=f"{what}_not_found") from None


class ProcessViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """``/api/v1/processes`` (seed 002): follow-up processes with full CRUD; filters ``status``,
    ``channel``, ``lead_id``, ``due``; ``ordering`` by ``next_followup_datetime``, ``created_at``,
    ``name``. ``POST /processes/{id}/actions`` logs an action on its lead and advances
    ``last_action_id``."""

    serializer_class = ProcessSerializer
    filterset_class = ProcessFilterSet
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return Process.objects.visible_to(self.request.user).with_list_related()

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return _filtered(ProcessFilterSet, self.request, queryset)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([process_to_dict(p) for p in page])

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        serializer = ProcessSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        process = services.process_create(user=request.user, **serializer.validated_data)
        return Response(process_to_dict(self.get_queryset().get(pk=process.pk)), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        process = self.get_object()
        serializer = ProcessSerializer(process, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        process = services.process_update(process=process, user=request.user, **serializer.validated_data)
        return Response(process_to_dict(self.get_queryset().get(pk=process.pk)))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    @extend_schema(responses={200: Message})
    def destroy(self, request, *args, **kwargs):
        services.process_delete(process=self.get_object(), user=request.user)
        return Response({"message": "Process deleted"})

    @extend_schema(request=ProcessActionSerializer,
                   responses={201: ActionSerializer, 400: OpenApiResponse(description="Bad action or no lead")})
    @action(detail=True, methods=["post"], serializer_class=ProcessActionSerializer, filterset_class=None)
    def actions(self, request, pk=None):
        """Log seed 002's action (``action_type``, ``details``) on the process's lead; the
        entry becomes the process's ``last_action_id``."""
        process = self.get_object()
        serializer = ProcessActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        entry = services.process_log_action(process=process, user=request.user, **data)
        body = ActionSerializer(entry).data
        body["process_id"] = str(process.pk)
        return Response(body, status=status.HTTP_201_CREATED)


class NotificationViewSet(viewsets.GenericViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    """``/api/v1/notifications``: the caller's notifications, newest first (``unread=true`` for
    the unread ones); ``POST /notifications/{id}/read`` marks one read, ``POST
    /notifications/read-all`` all; ``GET /notifications/unread-count`` for the bell."""

    serializer_class = NotificationSerializer
    filterset_class = None
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        qs = notifications.notifications_for(self.request.user)
        if self.action == "list":
            unread = self.request.query_params.get("unread", "").strip().lower()
            if unread in ("true", "1", "yes"):
                qs = qs.filter(read_at__isnull=True)
            elif unread in ("false", "0", "no"):
                qs = qs.filter(read_at__isnull=False)
            elif unread:
                raise ValidationError({"unread": [f'Use "true" or "false", not {unread!r}.']})
        return qs

    @extend_schema(parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="only unread (true) "
                                                "or only read (false)")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_object(self):
        return get_by_uuid_or_404(self.get_queryset(), self.kwargs["pk"])

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one notification read."""
        notification = notifications.notification_mark_read(user=request.user, notification=self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=inline_serializer("MarkedRead", {"marked": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark every unread notification read; answers how many changed."""
        return Response({"marked": notifications.notification_mark_all_read(user=request.user)})

    @extend_schema(responses=inline_serializer("UnreadCount", {"unread": serializers.IntegerField()}))
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        """The bell's number."""
        return Response({"unread": notifications.unread_count(request.user)})

