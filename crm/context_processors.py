"""Template context for every page: the unread notification count behind the bell."""

from crm.notifications import unread_count


class UnreadCount:
    """The signed-in user's unread notifications, counted on first use only (one indexed COUNT
    on ``(user, read_at, created_at)``), so a page that does not show it costs nothing."""

    def __init__(self, user):
        self._user = user
        self._value: int | None = None

    @property
    def value(self) -> int:
        if self._value is None:
            self._value = unread_count(self._user)
        return self._value

    def __int__(self) -> int:
        return self.value

    def __bool__(self) -> bool:
        return self.value > 0

    def __str__(self) -> str:
        return "99+" if self.value > 99 else str(self.value)


def notifications(request) -> dict:
    """``unread_notifications`` (lazy; absent for anonymous visitors)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": UnreadCount(user)}
