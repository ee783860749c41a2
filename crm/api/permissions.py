"""Role checks for the API (DESIGN.md decision 8). Record-level scoping is done by querysets
(``visible_to(user)``), so an invisible record answers 404 rather than 403."""

from rest_framework.permissions import BasePermission


class IsAdminRole(BasePermission):
    """Only ``admin``-role users and superusers."""

    message = "Only admins may do this."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (user.is_superuser or user.role == "admin"))


class IsManagerOrAdmin(BasePermission):
    """Managers, admins and superusers."""

    message = "Only managers and admins may do this."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.sees_all)
