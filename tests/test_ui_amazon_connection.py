"""Settings → Amazon connection in a real window against the local stand-in for Amazon (tests/fake_amazon.py):
Test connection answers in a sentence, saving keeps the secrets in the keyring and never shows them again,
the pull runs in the database's process and the dashboard shows its figures, each report's state fills the
table, a failure is said in the status bar (and, after a day, in the tray's tooltip), and the window stays
responsive throughout. The group fits a 1024×768 screen and every control is reached with Tab."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QElapsedTimer, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QScrollArea

from app import spapi
from app.host import AMAZON_PULL, SECRETS_FORGOTTEN, SECRETS_KEPT, SECRETS_MISSING, SECRETS_UNAVAILABLE
from app.settings import load_settings, save_setting
from storage.transaction import write_transaction
from tests.fake_amazon import FBA_RETURNS, fake_amazon_fixture  # noqa: F401  (the fake_amazon fixture)
from tests.ui_support import SAMPLE_NOW, WAIT_MS, reading
from tests.ui_support import reading as opened
from ui.amazon_connection import KIND_WORDS
from ui.application import SAVE_AMAZON, TEST_AMAZON

DAY = 86400


class RunningClock:
    """The samples' instant, moving on in real time: the pull's steps fall due as they would."""

    def __init__(self, at: float):
        self.start, self.started, self.offset = at, time.monotonic(), 0.0

    def __call__(self) -> float:
        return self.start + self.offset + time.monotonic() - self.started

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(autouse=True)
def no_environment_secrets(monkeypatch):
    for name in spapi.ENVIRONMENT.values():
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def desktop(launch, db_path):
    app = launch(db_path, now=RunningClock(SAMPLE_NOW))
    app.window.show_view("settings")
    return app


def fill(amazon, fake, **secrets) -> None:
    """Type the connection as a seller would: region, marketplaces, the test server, the three secrets."""
    amazon.region.setCurrentIndex(amazon.region.findData("NA"))
    amazon.marketplaces.setText("US, CA")
    amazon.test_server.setChecked(True)
    amazon.endpoint.setText(fake.base_url)
    amazon.token_endpoint.setText(fake.token_url)
    typed = {"client_id": fake.client_id, "client_secret": fake.client_secret, "refresh_token": fake.refresh_token}
    typed.update(secrets)
    for key, value in typed.items():
        amazon.secrets[key].setText(value)


def finished(what: str):
    return lambda name, _result: name == what


def pull_ended(name: str, progress) -> bool:
    return name == AMAZON_PULL and (bool(progress.errors) or not progress.busy)


def save_and_pull(qtbot, desktop):
    amazon = desktop.window.settings_view.amazon
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS, check_params_cb=pull_ended) as pulled:
        amazon.save_button.click()
        assert all(field.text() == "" for field in amazon.secrets.values())  # cleared at once, before any answer
    return pulled.args[1]


def test_test_connection_says_it_is_connected(qtbot, desktop, fake_amazon):
    amazon = desktop.window.settings_view.amazon
    fill(amazon, fake_amazon)
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS, check_params_cb=finished(TEST_AMAZON)):
        amazon.test_button.click()
        assert not amazon.test_button.isEnabled()  # asked, not waited for: the window goes on
    assert amazon.check_result.text() == "Connected to Amazon (North America): US, CA"
    assert amazon.check_result.styleSheet() == "color: #2e7d32;"
    assert amazon.test_button.isEnabled()
    assert fake_amazon.created() == []  # a test requests no report


@pytest.mark.parametrize(
    ("trouble", "sentence"),
    [
        ("secret", spapi.BAD_CLIENT),
        ("revoked", spapi.REVOKED),
        ("role", spapi.NO_ACCESS),
        ("unreachable", "Amazon could not be reached: "),
    ],
)
def test_test_connection_says_what_is_wrong(qtbot, desktop, fake_amazon, trouble, sentence):
    amazon = desktop.window.settings_view.amazon
    fill(amazon, fake_amazon, **({"client_secret": "amzn1.oa2-cs.v1.wrong"} if trouble == "secret" else {}))
    fake_amazon.revoked = trouble == "revoked"
    if trouble == "role":
        fake_amazon.deny_roles.add("*")
    if trouble == "unreachable":
        from tests.fake_amazon import closed_port_url

        amazon.endpoint.setText(closed_port_url())
        amazon.token_endpoint.setText(closed_port_url() + "/auth/o2/token")
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS, check_params_cb=finished(TEST_AMAZON)):
        amazon.test_button.click()
    assert amazon.check_result.text().startswith(sentence)
    assert amazon.check_result.styleSheet() == "color: #c62828;"


def test_a_marketplace_outside_the_region_is_refused_before_any_request(qtbot, desktop, fake_amazon):
    amazon = desktop.window.settings_view.amazon
    fill(amazon, fake_amazon)
    amazon.region.setCurrentIndex(amazon.region.findData("EU"))
    amazon.test_button.click()
    assert amazon.check_result.text() == "US, CA are not in the Europe region."
    amazon.save_button.click()
    assert amazon.check_result.text() == "US, CA are not in the Europe region."
    assert fake_amazon.requests == []


def test_saving_pulls_every_report_and_the_dashboard_shows_the_figures(qtbot, desktop, fake_amazon, db_path):
    window = desktop.window
    amazon = window.settings_view.amazon
    fill(amazon, fake_amazon)
    # Typed secrets show as dots: a screenshot of the form holds none of them.
    assert {field.echoMode() for field in amazon.secrets.values()} == {QLineEdit.EchoMode.Password}
    progress = save_and_pull(qtbot, desktop)

    assert progress.errors == [] and not progress.busy
    assert {(r.kind, r.marketplace, r.state) for r in progress.reports} == {
        (kind, marketplace, "done") for kind in KIND_WORDS for marketplace in ("US", "CA")
    }
    # The table: one row per report kind and marketplace, in words.
    table = amazon.table
    rows = [[table.item(row, column).text() for column in range(table.columnCount())] for row in range(10)]
    assert table.rowCount() == 10 and table.isVisible()
    assert [row[0] for row in rows[:5]] == ["All Orders", "Feedback", "FBM returns", "FBA returns", "Account health"]
    assert {row[1] for row in rows} == {"US", "CA"}
    assert all(row[2].startswith("Sun 08 Nov") and row[4] == "" for row in rows)
    # The status bar says it once the pull ended, beside the figures' date.
    assert desktop.amazon_status.isVisible()
    assert desktop.amazon_status.text().startswith("Amazon: 10 reports pulled ")
    assert amazon.last_pull.text().startswith("10 reports pulled ")
    assert amazon.check_result.text() == "", "'asking Amazon for the reports now' goes once they are in"

    # The figures are recomputed from what was pulled: both marketplaces, every order of the samples.
    qtbot.waitUntil(
        lambda: desktop.state is not None and set(desktop.state.metrics.get("marketplaces") or ()) == {"US", "CA"},
        timeout=WAIT_MS,
    )
    assert desktop.state.metrics["order_defect_rate"]["orders"] > 0
    assert "%" in window.dashboard.cards["order_defect_rate"].rate.text()
    assert not window.demo_banner.isVisible()

    # The secrets: in the (test's) keyring under this account's connection id, never shown back, never stored.
    with reading(db_path) as db:
        connection_id = db.execute("SELECT value FROM settings WHERE key = 'amazon_connection_id'").fetchone()[0]
    passwords = desktop.host.options.passwords
    saved = spapi.stored_credentials(passwords, connection_id.strip('"'))
    assert saved == spapi.Credentials(fake_amazon.client_id, fake_amazon.client_secret, fake_amazon.refresh_token)
    assert all(field.text() == "" for field in amazon.secrets.values())
    assert amazon.secret_note.text() == SECRETS_KEPT
    stored = b"".join(path.read_bytes() for path in db_path.parent.glob(db_path.name + "*"))
    for secret in fake_amazon.secrets():
        assert secret.encode() not in stored


def test_refresh_now_pulls_again_and_asks_for_no_report_twice(qtbot, desktop, fake_amazon):
    amazon = desktop.window.settings_view.amazon
    fill(amazon, fake_amazon)
    save_and_pull(qtbot, desktop)
    first = len(fake_amazon.created())
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS, check_params_cb=pull_ended) as pulled:
        amazon.pull_button.click()
    assert not pulled.args[1].errors
    assert len(fake_amazon.created()) == first + 10  # one of each kind and marketplace: orders since the last pull


def test_refresh_now_without_a_connection_says_so(qtbot, desktop, fake_amazon):
    amazon = desktop.window.settings_view.amazon
    amazon.pull_button.click()
    assert amazon.last_pull.text().startswith("Not connected")
    assert fake_amazon.requests == []


def test_a_failure_is_said_in_the_status_bar_the_table_and_after_a_day_the_tray(qtbot, desktop, fake_amazon):
    amazon = desktop.window.settings_view.amazon
    fill(amazon, fake_amazon)
    fake_amazon.deny_roles.add(FBA_RETURNS)  # the app was registered without the Amazon Fulfillment role
    progress = save_and_pull(qtbot, desktop)
    if progress.busy:  # the first step's error came before the end of the pull: wait for the end too
        with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS, check_params_cb=pull_ended) as more:
            pass
        progress = more.args[1]
    failed = [r for r in progress.reports if r.state == "failed"]
    assert {(r.kind, r.marketplace) for r in failed} == {("fba_returns", "US"), ("fba_returns", "CA")}
    assert desktop.amazon_status.text().startswith("Amazon: ")
    assert spapi.NO_ACCESS in desktop.amazon_status.text()
    assert desktop.amazon_status.styleSheet() == "color: #c62828;"
    errors = [amazon.table.item(row, 4).text() for row in range(amazon.table.rowCount())]
    assert errors.count(spapi.NO_ACCESS) == 2
    assert "Amazon:" not in desktop.health()[1]  # failing for minutes: not yet the tray's business

    desktop.now.advance(DAY + 3600)  # a day later the role is still missing
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS, check_params_cb=pull_ended):
        amazon.pull_button.click()
    # Eight of the ten reports came in: the tray names the two that did not (in the table's order), and why.
    line = f"Amazon: FBA returns (CA, US) not pulled for 1 day: {spapi.NO_ACCESS}"
    qtbot.waitUntil(lambda: line in desktop.health()[1], timeout=WAIT_MS)
    assert "no report pulled" not in desktop.health()[1]


def test_a_region_without_secrets_says_so_everywhere(qtbot, launch, db_path):
    """A region set (`config set`) but no secrets in the (empty) keyring: the pull at start and Refresh now
    both say why nothing comes, in the status bar, the last-pull line and the table; after a day, the tray."""
    with opened(db_path) as db, write_transaction(db):
        save_setting(db, "amazon_region", "NA")
        save_setting(db, "amazon_marketplaces", ["US", "CA"])
    desktop = launch(db_path, now=RunningClock(SAMPLE_NOW))
    desktop.window.show_view("settings")
    amazon = desktop.window.settings_view.amazon
    said = f"Amazon: {SECRETS_UNAVAILABLE}"
    qtbot.waitUntil(lambda: desktop.amazon_status.text() == said, timeout=WAIT_MS)  # the pull at start

    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS, check_params_cb=pull_ended) as pulled:
        amazon.pull_button.click()
    assert pulled.args[1].errors == [SECRETS_UNAVAILABLE] and not pulled.args[1].busy
    assert amazon.last_pull.text() == SECRETS_UNAVAILABLE  # not "Asking Amazon for the reports…"
    assert amazon.last_pull.styleSheet() == "color: #c62828;"
    assert desktop.amazon_status.text() == said
    assert desktop.amazon_status.styleSheet() == "color: #c62828;"
    errors = [amazon.table.item(row, 4).text() for row in range(amazon.table.rowCount())]
    assert errors == [SECRETS_UNAVAILABLE] * 10
    assert amazon.secret_note.text() == SECRETS_MISSING

    desktop.now.advance(DAY + 3600)  # still no secrets a day later: every report fails, the tray says so
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS, check_params_cb=pull_ended):
        amazon.pull_button.click()
    line = f"Amazon: no report pulled for 1 day: {SECRETS_UNAVAILABLE}"
    qtbot.waitUntil(lambda: line in desktop.health()[1], timeout=WAIT_MS)


class ThreadsReading:
    """Records which threads read a secret from the password store."""

    def __init__(self, passwords, monkeypatch):
        self.threads: list[str] = []
        read = passwords.get

        def get(user, host):
            self.threads.append(threading.current_thread().name)
            return read(user, host)

        monkeypatch.setattr(passwords, "get", get)

    def outside_the_worker(self) -> list[str]:
        return [name for name in self.threads if not name.startswith("worker")]


def test_the_window_never_waits_on_the_keyring(qtbot, desktop, fake_amazon, monkeypatch):
    """Only the worker reads the secrets, once per pull however many steps it takes; the window's note
    beside them is answered without the keyring (whose unlock prompt would hold the window)."""
    amazon = desktop.window.settings_view.amazon
    fill(amazon, fake_amazon)
    save_and_pull(qtbot, desktop)
    reads = ThreadsReading(desktop.host.options.passwords, monkeypatch)
    fake_amazon.script("GET_SELLER_FEEDBACK_DATA", "IN_QUEUE", "IN_PROGRESS", "DONE")  # three steps at least
    looked = len(fake_amazon.calls("getReport"))
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS, check_params_cb=pull_ended) as pulled:
        amazon.pull_button.click()
    assert not pulled.args[1].errors
    assert len(fake_amazon.calls("getReport")) - looked >= 12  # ten looks, then two more at the feedback
    assert len(reads.threads) == len(spapi.SECRET_NAMES), reads.threads  # once for the whole pull
    desktop.show_amazon_view()
    assert amazon.secret_note.text() == SECRETS_KEPT
    assert reads.outside_the_worker() == []


def test_saving_not_connected_forgets_the_secrets(qtbot, desktop, fake_amazon, db_path):
    amazon = desktop.window.settings_view.amazon
    fill(amazon, fake_amazon)
    save_and_pull(qtbot, desktop)
    with reading(db_path) as db:
        connection_id = load_settings(db).amazon_connection_id
    passwords = desktop.host.options.passwords
    assert spapi.stored_credentials(passwords, connection_id) is not None

    amazon.region.setCurrentIndex(amazon.region.findData(""))
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS, check_params_cb=finished(SAVE_AMAZON)):
        amazon.save_button.click()
    assert amazon.check_result.text() == SECRETS_FORGOTTEN
    assert amazon.check_result.styleSheet() == "color: #2e7d32;"
    user = spapi.KEYRING_USER.format(connection_id=connection_id)
    assert all(passwords.get(user, name) is None for name in spapi.SECRET_NAMES)
    assert amazon.secret_note.text() == SECRETS_MISSING


def test_a_revoked_token_stops_the_pull_with_its_sentence(qtbot, desktop, fake_amazon):
    amazon = desktop.window.settings_view.amazon
    fill(amazon, fake_amazon)
    fake_amazon.revoked = True
    with qtbot.waitSignal(desktop.bridge.job_finished, timeout=WAIT_MS, check_params_cb=pull_ended) as pulled:
        amazon.save_button.click()
    assert pulled.args[1].errors == [spapi.REVOKED]
    assert desktop.amazon_status.text() == f"Amazon: {spapi.REVOKED}"
    assert fake_amazon.created() == []


def test_the_window_never_waits_for_amazon(qtbot, desktop, fake_amazon):
    """Amazon takes its time preparing each report: the pull runs in the database's process while the window
    keeps handling its events (a timer ticking every 20 ms is never held up long)."""
    for report_type in ("GET_SELLER_FEEDBACK_DATA", "GET_V2_SELLER_PERFORMANCE_REPORT"):
        fake_amazon.script(report_type, "IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS", "DONE")
    amazon = desktop.window.settings_view.amazon
    fill(amazon, fake_amazon)
    gaps, clock = [], QElapsedTimer()
    ticker = QTimer()
    ticker.setInterval(20)
    ticker.timeout.connect(lambda: (gaps.append(clock.restart()),))
    clock.start()
    ticker.start()
    started = time.monotonic()
    progress = save_and_pull(qtbot, desktop)
    ticker.stop()
    assert not progress.errors and time.monotonic() - started > 3  # the polls waited 1, 2 and 4 s between looks
    assert len(gaps) > 50
    # Between ticks the window only draws what arrived (the table, the status line); the figures it applies
    # once come from the worker ready-made.
    print(f"longest pause of the window's event loop during the pull: {max(gaps)} ms")
    assert max(gaps) < 500, sorted(gaps)[-5:]


def test_the_group_fits_a_small_laptop_and_tab_reaches_every_control(qtbot, desktop):
    window = desktop.window
    window.resize(1024, 768)
    window.show()
    qtbot.waitExposed(window)
    view = window.settings_view
    amazon = view.amazon
    amazon.test_server.setChecked(True)
    scroll = view.findChild(QScrollArea)
    scroll.ensureWidgetVisible(view.amazon_group)
    for _ in range(3):
        QApplication.processEvents()
    assert not scroll.horizontalScrollBar().isVisible()
    assert view.amazon_group.geometry().right() <= scroll.viewport().width()

    window.activateWindow()
    amazon.region.setFocus()
    reached = []
    for _ in range(30):
        widget = QApplication.focusWidget()
        if widget is not None and widget not in reached:
            reached.append(widget)
        qtbot.keyClick(widget, Qt.Key.Key_Tab)
    controls = [
        amazon.region,
        amazon.marketplaces,
        *amazon.secrets.values(),
        amazon.hours,
        amazon.test_server,
        amazon.endpoint,
        amazon.token_endpoint,
        amazon.save_button,
        amazon.test_button,
        amazon.pull_button,
    ]
    missing = [control.accessibleName() or type(control).__name__ for control in controls if control not in reached]
    assert not missing


def test_the_tray_says_no_report_pulled_only_while_every_report_has_failed_for_a_day():
    from app.host import AmazonReport
    from ui.tray import amazon_tooltip_line

    def report(kind, marketplace, failing_for_s, error="Amazon could not be reached."):
        since = SAMPLE_NOW - failing_for_s if failing_for_s is not None else None
        return AmazonReport(kind, marketplace, "failed", None, None, error if since else None, since)

    others = [report(kind, "US", 2 * 3600) for kind in KIND_WORDS if kind != "orders"]
    orders = report("orders", "US", 3 * DAY + 60, spapi.NO_ACCESS)
    assert (
        amazon_tooltip_line([orders, *others], SAMPLE_NOW)
        == f"Amazon: All Orders (US) not pulled for 3 days: {spapi.NO_ACCESS}"
    )
    assert amazon_tooltip_line([report("orders", "US", None), *others], SAMPLE_NOW) is None  # not a day yet
    every = [orders, *(report(kind, "US", DAY + 60) for kind in KIND_WORDS if kind != "orders")]
    assert amazon_tooltip_line(every, SAMPLE_NOW) == f"Amazon: no report pulled for 1 day: {spapi.NO_ACCESS}"
