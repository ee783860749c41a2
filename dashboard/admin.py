"""Read-only admin for the dashboard rollups (derived data: rebuilt, never edited by hand)."""

from django.contrib import admin

from dashboard.models import LeadDailyStat, LeadSourceDailyStat, LeadSourceMonthlyStat, RollupDirtyDay


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LeadDailyStat)
class LeadDailyStatAdmin(ReadOnlyAdmin):
    list_display = ("day", "owner_id", "created", "won", "closed", "revenue", "lost")
    list_filter = ("owner_id",)
    date_hierarchy = "day"
    ordering = ("-day", "owner_id")


@admin.register(LeadSourceDailyStat)
class LeadSourceDailyStatAdmin(ReadOnlyAdmin):
    list_display = ("day", "owner_id", "source", "created")
    search_fields = ("source",)
    date_hierarchy = "day"
    ordering = ("-day", "owner_id", "source")


@admin.register(LeadSourceMonthlyStat)
class LeadSourceMonthlyStatAdmin(ReadOnlyAdmin):
    list_display = ("month", "owner_id", "source", "created")
    search_fields = ("source",)
    ordering = ("-month", "owner_id", "source")


@admin.register(RollupDirtyDay)
class RollupDirtyDayAdmin(ReadOnlyAdmin):
    list_display = ("day", "marked_at")
