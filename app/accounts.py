"""Several seller accounts, each in a database file of its own, so no figure can mix two accounts.

A seller with one account never sees any of this: without an accounts file, the one account is the usual
database (`$AHM_DB` or the platform's data folder). `account add` writes `accounts.json` beside that
database; from then on it lists every account (the usual database as the first, "Main") and which one was
used last. New accounts' databases go in the `accounts` folder beside it; a removed account's database is
copied to the `backups` folder first (SQLite's online backup: a consistent copy even while another process
reads it), checked, and only then deleted.

The accounts file is small and rewritten whole: a new file beside it, flushed to disk, then renamed over
the old one, so a crash leaves the old list or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from storage.db import DATABASE_SUFFIXES, DatabaseInUse, default_db_path, exclusive_use

ACCOUNTS_FILE = "accounts.json"
ACCOUNTS_FOLDER = "accounts"
BACKUPS_FOLDER = "backups"
FIRST_ACCOUNT = "Main"
MAX_NAME = 40
FORMAT = 1


class AccountError(Exception):
    """An account that cannot be used, added, renamed or removed; the message says why in words."""


@dataclass(frozen=True)
class Account:
    name: str
    database: Path


@dataclass(frozen=True)
class AccountList:
    accounts: tuple[Account, ...]
    last_used: str
    registered: bool  # False: no accounts file yet, the one account is the usual database

    @property
    def names(self) -> list[str]:
        return [account.name for account in self.accounts]

    def find(self, name: str) -> Account:
        wanted = _key(name)
        for account in self.accounts:
            if _key(account.name) == wanted:
                return account
        known = ", ".join(self.names)
        raise AccountError(f"There is no account named '{name}'. Your accounts: {known}.")

    @property
    def current(self) -> Account:
        """The account used last (the only one, for a seller with one)."""
        try:
            return self.find(self.last_used)
        except AccountError:
            return self.accounts[0]


def home_folder() -> Path:
    """Where the accounts file lives: beside the usual database."""
    return default_db_path().parent


def accounts_file(folder: Path | None = None) -> Path:
    return (folder or home_folder()) / ACCOUNTS_FILE


def load_accounts(folder: Path | None = None) -> AccountList:
    """Every account; without an accounts file, the one account on the usual database."""
    path = accounts_file(folder)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return AccountList((Account(FIRST_ACCOUNT, default_db_path()),), FIRST_ACCOUNT, registered=False)
    except OSError as error:
        raise AccountError(f"The accounts file {path} cannot be read: {error.strerror}.") from error
    try:
        data = json.loads(text)
        accounts = tuple(Account(str(entry["name"]), Path(entry["database"])) for entry in data["accounts"])
        last_used = str(data.get("last_used") or "")
    except (ValueError, KeyError, TypeError) as error:
        raise AccountError(
            f"The accounts file {path} is damaged ({error}). Each account's database is untouched; "
            f"fix or remove {path} (with it gone, the monitor opens the usual database {default_db_path()})."
        ) from error
    if not accounts:
        raise AccountError(f"The accounts file {path} lists no account. Remove it to use the usual database.")
    return AccountList(accounts, last_used, registered=True)


def choose_database(db: Path | None, account: str | None, folder: Path | None = None) -> Path:
    """The database a command or the window works on: `--db`, else `--account` (remembered as the last
    used), else the account used last, else the usual database."""
    if db is not None and account:
        raise AccountError("--db and --account both name a database: give one of them.")
    if db is not None:
        return db
    if account is None:
        return load_accounts(folder).current.database
    if not account.strip():
        raise AccountError("--account needs an account's name (see `account list`).")
    return mark_used(account, folder).database


def mark_used(name: str, folder: Path | None = None) -> Account:
    """Remember `name` as the account used last (a command's --account, the window's switch), so the next
    command or start without one uses it."""
    accounts = load_accounts(folder)
    chosen = accounts.find(name)
    if not accounts.registered or chosen.name == accounts.last_used:
        return chosen
    with _locked(folder):  # read again under the lock: an account added meanwhile must stay listed
        accounts = load_accounts(folder)
        chosen = accounts.find(name)
        _save(folder, accounts.accounts, chosen.name)
    return chosen


def check_name(name: str, accounts: AccountList, *, renaming: str | None = None) -> str:
    """The name as kept (spaces at its ends dropped), or AccountError saying what is wrong with it."""
    name = name.strip()
    if not name:
        raise AccountError("An account needs a name, such as 'EU' or 'North America'.")
    if len(name) > MAX_NAME:
        raise AccountError(f"An account's name has at most {MAX_NAME} characters.")
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise AccountError("An account's name cannot hold control characters.")
    for account in accounts.accounts:
        if _key(account.name) == _key(name) and (renaming is None or _key(account.name) != _key(renaming)):
            raise AccountError(f"There is already an account named '{account.name}'.")
    return name


def add_account(
    name: str, database: Path | None = None, folder: Path | None = None, *, first: Path | None = None
) -> Account:
    """A new account: on a new, empty database in the accounts folder, or on an existing database file.

    `first`: the database in use so far (the window's), which becomes the first account when there are no
    accounts yet (else the usual database does); with accounts, it must be one of them."""
    with _locked(folder):
        accounts = load_accounts(folder)
        if first is not None:
            accounts = _with_first(accounts, first.expanduser().absolute())
        name = check_name(name, accounts)
        if database is None:
            database = _new_database_path(name, folder)  # a name no file has: no account uses it
            _create_database(database)
        else:
            database = database.expanduser().absolute()
            _refuse_shared(accounts, database)
            _check_database(database)
        added = Account(name, database)
        _save(folder, (*accounts.accounts, added), accounts.current.name)
        return added


def add_account_job(db, name: str, window_database: str) -> Account:
    """`add_account` from the window, as a job of the database's process (the window's process opens no
    database file). The window's own database is the first account."""
    return add_account(name, first=Path(window_database))


def _with_first(accounts: AccountList, first: Path) -> AccountList:
    if not accounts.registered:
        return AccountList((Account(FIRST_ACCOUNT, first),), FIRST_ACCOUNT, registered=False)
    if not any(_same_file(account.database, first) for account in accounts.accounts):
        raise AccountError(
            f"This window runs on {first}, which is not one of your accounts' databases (it was chosen with "
            "--db): start the monitor without --db to add an account, or use `account add` on the command line."
        )
    return accounts


def rename_account(old: str, new: str, folder: Path | None = None) -> Account:
    """A new name; the database file stays where it is."""
    with _locked(folder):
        accounts = load_accounts(folder)
        account = accounts.find(old)
        new = check_name(new, accounts, renaming=account.name)
        renamed = Account(new, account.database)
        listed = tuple(renamed if item == account else item for item in accounts.accounts)
        last_used = new if accounts.current == account else accounts.current.name
        _save(folder, listed, last_used)
        return renamed


def move_account(name: str, database: Path, folder: Path | None = None) -> Account:
    """The account uses another database file from the next start (Settings → Database file)."""
    with _locked(folder):
        accounts = load_accounts(folder)
        account = accounts.find(name)
        moved = Account(account.name, database.expanduser().absolute())
        _refuse_shared(accounts, moved.database, besides=account)
        _save(folder, tuple(moved if item == account else item for item in accounts.accounts), accounts.last_used)
        return moved


def remove_account(name: str, folder: Path | None = None, *, now: float | None = None) -> tuple[Account, Path | None]:
    """Remove an account: its database is backed up to the backups folder, checked, then deleted; refused
    while another process has it open.

    Returns:
        The account removed and its backup's path (None: its database was not there, only the entry went).
    """
    with _locked(folder):
        accounts = load_accounts(folder)
        account = accounts.find(name)
        if len(accounts.accounts) == 1:
            raise AccountError(f"'{account.name}' is your only account: there must be one to open.")
        kept = tuple(item for item in accounts.accounts if item != account)
        last_used = accounts.current.name if accounts.current != account else kept[0].name
        if not account.database.exists():  # a file on a drive no longer there: only the entry goes
            _save(folder, kept, last_used)
            return account, None
        try:
            with exclusive_use(account.database):
                backup = backup_database(account, folder, now=now)
                _save(folder, kept, last_used)
                _delete_database(account.database)
        except DatabaseInUse:
            raise AccountError(
                f"The database of '{account.name}' is open in another process (the monitor's window, an import "
                "or a command still running): let it finish or quit it, then remove the account. Nothing was removed."
            ) from None
        return account, backup


def backup_database(account: Account, folder: Path | None = None, *, now: float | None = None) -> Path:
    """A checked copy of the account's database in the backups folder (made with SQLite's backup, so a
    reader or writer elsewhere cannot leave it half-copied)."""
    if not account.database.exists():
        raise AccountError(f"The database of '{account.name}', {account.database}, is not there to back up.")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    backups = (folder or home_folder()) / BACKUPS_FOLDER
    backups.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(backups, 0o700)
    target = _unused(backups / f"{_slug(account.name)}-{stamp}.sqlite3")
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # private from its first byte
    try:
        source = sqlite3.connect(f"{account.database.absolute().as_uri()}?mode=ro", uri=True)
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)
                verdict = copy.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error as error:
        _delete_database(target)
        raise AccountError(
            f"The database of '{account.name}' could not be backed up ({error}); nothing was removed."
        ) from error
    if verdict != "ok":
        _delete_database(target)
        raise AccountError(f"The backup of '{account.name}' did not check out ({verdict}); nothing was removed.")
    return target


# --- the file --------------------------------------------------------------------------------------------------


def _save(folder: Path | None, accounts: tuple[Account, ...], last_used: str) -> None:
    path = accounts_file(folder)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {
        "format": FORMAT,
        "accounts": [{"name": a.name, "database": str(a.database)} for a in accounts],
        "last_used": last_used,
    }
    handle, temporary = tempfile.mkstemp(prefix=".accounts-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(data, file, indent=2, ensure_ascii=False)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """The rename itself reaches the disk (POSIX); Windows has no directory handles to flush."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _locked(folder: Path | None) -> Iterator[None]:
    """One change to the accounts file at a time, across processes (two `account add` at once would
    otherwise each keep the list without the other's account)."""
    target = accounts_file(folder)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        import fcntl
    except ImportError:  # Windows: the rename alone keeps the file whole
        yield
        return
    descriptor = os.open(target.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-") or "account"


def _unused(path: Path) -> Path:
    """A name no file has, nor any of SQLite's files beside it: a -wal left by a process still holding
    an old database of that name would otherwise be taken for the new one's."""
    candidate, number = path, 2
    while any(Path(f"{candidate}{suffix}").exists() for suffix in DATABASE_SUFFIXES):
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
        number += 1
    return candidate


def _new_database_path(name: str, folder: Path | None) -> Path:
    accounts = (folder or home_folder()) / ACCOUNTS_FOLDER
    accounts.mkdir(parents=True, exist_ok=True, mode=0o700)
    return _unused(accounts / f"{_slug(name)}.sqlite3")


def _create_database(path: Path) -> None:
    from storage import open_db  # the schema comes with the first opening

    open_db(path).close()


def _check_database(path: Path) -> None:
    """An existing file must be one of the monitor's databases (or SQLite would make it one)."""
    if not path.is_file():
        raise AccountError(f"{path} is not a file: give the database file of the account to add.")
    from storage import StorageError, open_db
    from storage.db import check_usable

    try:
        check_usable(path)  # another program's database is refused before anything is written to it
        open_db(path).close()
    except (StorageError, sqlite3.Error) as error:
        raise AccountError(f"{path} cannot be used as an account's database: {error}") from error


def _refuse_shared(accounts: AccountList, database: Path, besides: Account | None = None) -> None:
    """Two accounts on one file would mix their figures, and removing one would delete the other's."""
    for other in accounts.accounts:
        if other != besides and _same_file(other.database, database):
            raise AccountError(f"The account '{other.name}' already uses {database}.")


def _same_file(first: Path, second: Path) -> bool:
    """The same path, or two paths to one existing file (a link, another path to the folder)."""
    if first == second:
        return True
    try:
        return first.exists() and second.exists() and os.path.samefile(first, second)
    except OSError:
        return False


def _delete_database(path: Path) -> None:
    for suffix in DATABASE_SUFFIXES:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
