"""Model fields shared by the apps."""

from django.db import models


class BinaryCharField(models.CharField):
    """A CharField compared and sorted by code point on every backend.

    MySQL/MariaDB columns otherwise take the database's collation (``utf8mb4_unicode_ci``:
    case- and accent-insensitive, with its own order for punctuation), so Python could not tell
    where a value sorts or which values the database holds equal. This column is
    ``utf8mb4_bin`` there; SQLite compares text as UTF-8 bytes (code point order) already.
    The collation is chosen per connection in :meth:`db_type`, so migrations do not depend on
    the database they were made on.
    """

    def db_type(self, connection):
        base = super().db_type(connection)
        if connection.vendor == "mysql":
            return f"{base} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        return base
