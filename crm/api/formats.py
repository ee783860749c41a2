"""Value formats the hand-written list serializers share (leads, contacts): they read both model
instances and raw database rows, so each accepts either form of a value."""

import uuid


def iso_utc(value) -> str | None:
    """ISO 8601 in UTC with a ``Z``, from an aware datetime (a model) or the naive UTC one a raw
    database row holds (USE_TZ stores UTC); None for None."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.isoformat() + "Z"
    return value.isoformat().replace("+00:00", "Z")


def uuid_text(value) -> str | None:
    """A UUID as its 36-character text, from a UUID, the text MariaDB's native ``uuid`` gives, or
    the 32 hex digits MySQL and SQLite store; None for None."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 36:
        return value
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
