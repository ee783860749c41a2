from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The ``bench`` app: the ``bench`` management command and the ceiling views."""

    name = "bench"
    verbose_name = "Benchmarks"
