"""Admin list filters the apps share."""

from django.contrib import admin


class DeletedFilter(admin.SimpleListFilter):
    """Live / deleted for models that soft-delete with ``deleted_at`` (DESIGN.md decision 9)."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return (("live", "Live"), ("deleted", "Deleted"))

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        return queryset
