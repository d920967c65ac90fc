"""A real IMAP server for the mailbox tests: Dovecot, started from the test suite on loopback.

Each test module gets its own Dovecot instance (`dovecot -F -c <config>`, a child process of pytest, no
systemd, nothing system-wide): its own configuration, unprivileged ports picked free on 127.0.0.1, a
passwd-file of test users, maildirs and a throw-away certificate authority, all in one temporary folder
that is removed afterwards. The folder is made with `tempfile.mkdtemp` rather than in pytest's tmp_path
because Dovecot's sockets live in it (a Unix socket path is limited to 108 bytes) and, when the tests run
as root (CI), Dovecot refuses to run mail processes as root: they run as `nobody`, which must be able to
reach the maildirs, and pytest's folders are private to their owner.

Listeners: `imap_port` speaks plain IMAP and offers STARTTLS; `imaps_port` is implicit TLS. Both present a
certificate for localhost / 127.0.0.1 signed by the CA in `ca_file`, which the system does not trust.
"""

from __future__ import annotations

import grp
import imaplib
import itertools
import mailbox
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"])
USERS = 100
INSTALL_HINT = "Debian package dovecot-imapd; `make test` installs it through tools/system-packages"


def missing_tools() -> str | None:
    """Why the server cannot be started here, or None."""
    for tool, package in (("dovecot", "dovecot-imapd"), ("openssl", "openssl")):
        if not shutil.which(tool, path=SEARCH_PATH):
            return f"`{tool}` is not installed ({package}; {INSTALL_HINT})"
    if not Path("/usr/lib/dovecot/imap").exists() and not shutil.which("imap", path="/usr/libexec/dovecot"):
        return f"Dovecot's IMAP service is not installed ({INSTALL_HINT})"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dovecot:
    """One Dovecot instance; `start()` returns once it accepts connections, `stop()` ends it."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="ahm-imap-"))
        self.imap_port, self.imaps_port = free_port(), free_port()
        self.ca_file = self.root / "ca.pem"
        self.process: subprocess.Popen | None = None
        self._users = itertools.count(1)
        self.password = "correct horse battery"
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
            self.login_user, self.internal_user, self.auth_user = "dovenull", "dovecot", "root"
            self.internal_group = "dovecot"
        else:  # every process runs as the one user who started it
            me = pwd.getpwuid(os.getuid())
            self.uid, self.gid = me.pw_uid, me.pw_gid
            self.login_user = self.internal_user = self.auth_user = me.pw_name
            self.internal_group = grp.getgrgid(me.pw_gid).gr_name

    # --- life cycle ---------------------------------------------------------------------------------------------

    def start(self) -> Dovecot:
        os.chmod(self.root, 0o755)  # mail processes (nobody) reach mail/ through it
        for name in ("run", "state"):
            (self.root / name).mkdir()
        mail = self.root / "mail"
        mail.mkdir()
        os.chown(mail, self.uid, self.gid) if os.geteuid() == 0 else None
        # Every test user up front: Dovecot rereads a changed passwd-file at most once a second.
        (self.root / "passwd").write_text("".join(f"seller{n}:{{PLAIN}}{self.password}\n" for n in range(1, USERS + 1)))
        self._certificates()
        config = self.root / "dovecot.conf"
        config.write_text(self._config())
        binary = shutil.which("dovecot", path=SEARCH_PATH)
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode(errors="replace")
                raise RuntimeError(f"Dovecot did not start: {error}\n{self.log()}")
            if self._accepts(self.imap_port) and self._accepts(self.imaps_port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Dovecot did not open its ports within 20 s\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # the master stops every service it started
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process is not None:
            self.process.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @staticmethod
    def _accepts(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    def _certificates(self) -> None:
        """A CA and a certificate for localhost and 127.0.0.1 that it signed (EC keys: fast to make)."""
        openssl = shutil.which("openssl", path=SEARCH_PATH)
        root = self.root
        (root / "server.ext").write_text(
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
        )
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for command in (
            [openssl, "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "3", "-subj",
             "/CN=Account Health Monitor test CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            [openssl, "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
            [openssl, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "3", "-extfile", "server.ext"],
        ):  # fmt: skip
            subprocess.run(command, cwd=root, check=True, capture_output=True)

    def _config(self) -> str:
        root = self.root
        return f"""
protocols = imap
base_dir = {root}/run
state_dir = {root}/state
instance_name = ahm-test-{self.imap_port}
listen = 127.0.0.1
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/server.pem
ssl_key = <{root}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
first_valid_uid = {self.uid}
last_valid_uid = 0
first_valid_gid = 0
default_login_user = {self.login_user}
default_internal_user = {self.internal_user}
default_internal_group = {self.internal_group}
mail_location = maildir:{root}/mail/%u
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service auth {{
  user = {self.auth_user}
}}
# Failed logins slow the next ones from the same address (all tests come from 127.0.0.1): not here.
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  chroot =
}}
"""

    # --- users and mail ---------------------------------------------------------------------------------------

    def add_user(self) -> tuple[str, str]:
        """A user nobody used yet, so an empty mailbox (each test gets its own)."""
        number = next(self._users)
        assert number <= USERS, "more test users than tests/imap_server.USERS"
        return f"seller{number}", self.password

    def session(self, user: str, password: str) -> imaplib.IMAP4:
        """A plain connection for filling and changing a mailbox (the test's own hands, not the app's code)."""
        conn = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        try:
            conn.login(user, password)
        except imaplib.IMAP4.error:
            conn.shutdown()
            raise
        return conn


def append(conn: imaplib.IMAP4, folder: str, raw: bytes) -> None:
    """APPEND one e-mail with its own Date as the internal date, creating the folder when missing."""
    if folder.upper() != "INBOX":
        conn.create(folder)  # NO when it exists: fine
    moment = parsedate_to_datetime(str(_header(raw, b"Date")))
    status, data = conn.append(folder, None, imaplib.Time2Internaldate(moment), raw)
    assert status == "OK", data


def append_mbox(conn: imaplib.IMAP4, folder: str, path: Path) -> int:
    """Every e-mail of an mbox file, in order (the stdlib's mbox reader, independent of the app's)."""
    box = mailbox.mbox(str(path), create=False)
    try:
        keys = list(box.keys())
        for key in keys:
            append(conn, folder, box.get_bytes(key))
    finally:
        box.close()
    return len(keys)


def _header(raw: bytes, name: bytes) -> str:
    for line in raw.split(b"\n\n", 1)[0].splitlines():
        if line.lower().startswith(name.lower() + b":"):
            return line.split(b":", 1)[1].strip().decode()
    raise AssertionError(f"no {name!r} header")
