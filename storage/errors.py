"""Errors of the storage layer."""


class StorageError(Exception):
    """The environment failed (locked, unreadable, corrupt, disk full, too new): shown to the seller as is."""
