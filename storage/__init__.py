"""Storage: the seller's SQLite database (open_db, migrations, repositories over sqlite-utils)."""

from storage.db import default_db_path, is_read_only, open_db
from storage.errors import (
    DatabaseBusyError,
    DatabaseDamagedError,
    DiskFullError,
    ReadOnlyDatabaseError,
    StorageError,
)
from storage.transaction import environment_error, write_transaction

__all__ = [
    "DatabaseBusyError",
    "DatabaseDamagedError",
    "DiskFullError",
    "ReadOnlyDatabaseError",
    "StorageError",
    "default_db_path",
    "environment_error",
    "is_read_only",
    "open_db",
    "write_transaction",
]
