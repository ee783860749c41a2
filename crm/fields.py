"""Model fields shared by the apps."""

from django.db import models


class BinaryCharField(models.CharField):
    """A CharField compared and sorted by code point on every backend.

    MySQL/MariaDB columns otherwise take the database's collation (``utf8mb4_unicode_ci``:
    case- and accent-insensitive, with its own order for punctuation), so Python could not tell
    where a value sorts or which values the database holds equal. This column is binary and
    NO PAD there (``utf8mb4_nopad_bin`` on MariaDB, ``utf8mb4_0900_bin`` on MySQL 8): with
    ``utf8mb4_bin``, a PAD SPACE collation, ``"ab\x01"`` sorts below its own prefix ``"ab"``.
    SQLite compares text as UTF-8 bytes (code point order) already. The collation is chosen
    per connection in :meth:`db_type`, so migrations do not depend on the database they were
    made on.
    """

    def db_type(self, connection):
        base = super().db_type(connection)
        if connection.vendor == "mysql":
            collation = "utf8mb4_nopad_bin" if connection.mysql_is_mariadb else "utf8mb4_0900_bin"
            return f"{base} CHARACTER SET utf8mb4 COLLATE {collation}"
        return base
