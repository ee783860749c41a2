"""Factories for tasks and processes (saved directly; services are tested through their calls)."""

import factory

from tasks.models import Process, Task


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    title = factory.Sequence(lambda n: f"Task {n}")
    priority = Task.Priority.MEDIUM


class ProcessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Process

    name = factory.Sequence(lambda n: f"Process {n}")
    channel = Process.Channel.EMAIL
    status = Process.Status.ACTIVE
