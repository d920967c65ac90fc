"""Storage: the seller's SQLite database (open_db, migrations, repositories over sqlite-utils)."""

from storage.db import default_db_path, open_db
from storage.errors import StorageError

__all__ = ["StorageError", "default_db_path", "open_db"]
