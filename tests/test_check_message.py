"""`check-message` as a seller runs it: `python main.py check-message` (and `ahm check-message`) in its own
process, on a reply saved as a file or piped in, without any database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tools.guideline_figures import read_reply

REPLIES = ROOT / "tests" / "replies"
BREAKING = "Hi Josh,\nplease leave us 5 stars!\nCall us on +1 212-555-0187.\n"
COMPLIANT = "Hi Josh,\nthe replacement is on its way: UPS 1Z999AA10123456784.\nSam\n"


def run(
    tmp_path: Path, *args: str, stdin: bytes | None = None, program: str = "main.py"
) -> subprocess.CompletedProcess:
    """The command with a database and data folder of its own that it must leave untouched."""
    env = os.environ | {"AHM_DB": str(tmp_path / "health.db"), "XDG_DATA_HOME": str(tmp_path / "data")}
    if program == "ahm":
        command = [
            sys.executable,
            "-c",
            "import sys; sys.argv[0] = 'ahm'; from app.entry import command_line; command_line()",
        ]
    else:
        command = [sys.executable, program]
    done = subprocess.run(
        [*command, "check-message", *args], cwd=ROOT, input=stdin, capture_output=True, env=env, timeout=120
    )
    assert not (tmp_path / "health.db").exists() and not (tmp_path / "data").exists(), "it must not open a database"
    assert b"Traceback" not in done.stderr, done.stderr
    return done


def write(tmp_path: Path, text: str, name: str = "reply.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_breaking_reply_prints_each_breach_and_exits_1(tmp_path):
    done = run(tmp_path, str(write(tmp_path, BREAKING)))
    assert done.returncode == 1
    assert done.stdout.decode().splitlines() == [
        "review_request: please leave us 5 stars  (asks for positive feedback or a review)",
        "off_amazon_contact: Call us  (directs the buyer off Amazon (phone, e-mail, website))",
        "off_amazon_contact: +1 212-555-0187  (directs the buyer off Amazon (phone, e-mail, website))",
    ]


def test_json_is_exactly_the_breaches(tmp_path):
    done = run(tmp_path, "--json", str(write(tmp_path, BREAKING)))
    assert done.returncode == 1
    assert json.loads(done.stdout) == {
        "breaches": [
            {"rule": "review_request", "phrase": "please leave us 5 stars"},
            {"rule": "off_amazon_contact", "phrase": "Call us"},
            {"rule": "off_amazon_contact", "phrase": "+1 212-555-0187"},
        ]
    }


def test_a_compliant_reply_says_so_and_exits_0(tmp_path):
    done = run(tmp_path, str(write(tmp_path, COMPLIANT)))
    assert (done.returncode, done.stdout.decode().count("\n")) == (0, 1)
    assert done.stdout.decode().startswith("Compliant")
    assert json.loads(run(tmp_path, str(write(tmp_path, COMPLIANT)), "--json").stdout) == {"breaches": []}


@pytest.mark.parametrize("args", [(), ("-",)], ids=["no file", "dash"])
def test_the_message_can_come_on_stdin(tmp_path, args):
    german = b"Hallo Frau Fischer,\nbitte entfernen Sie Ihre Bewertung.\n"
    done = run(tmp_path, "--json", *args, stdin=german)
    assert done.returncode == 1
    assert json.loads(done.stdout) == {
        "breaches": [{"rule": "feedback_change", "phrase": "bitte entfernen Sie Ihre Bewertung"}]
    }
    assert run(tmp_path, *args, stdin=COMPLIANT.encode()).returncode == 0


def test_quoted_buyer_text_does_not_count_against_the_seller(tmp_path):
    reply = read_reply(REPLIES / "71-quoted-buyer-phone-email.txt")
    done = run(tmp_path, str(write(tmp_path, reply.body)))
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("name", ["r2-12-fr-outlook-quote.txt", "r2-17-de-outlook-von-gesendet.txt"])
def test_the_buyers_phone_and_address_in_an_outlook_quote_never_come_out(tmp_path, name):
    # What is printed as a breach is also what the app stores: the buyer's contact must not be in it.
    reply = read_reply(REPLIES / name)
    done = run(tmp_path, "--json", str(write(tmp_path, reply.body)))
    assert (done.returncode, json.loads(done.stdout)) == (0, {"breaches": []})


def test_a_reply_of_the_corpus_with_a_phrase_over_two_lines(tmp_path):
    reply = read_reply(REPLIES / "34-review-line-break.txt")
    done = run(tmp_path, "--json", str(write(tmp_path, reply.body)))
    assert json.loads(done.stdout) == {"breaches": [{"rule": "review_request", "phrase": "please leave us a\nreview"}]}


def test_ahm_runs_it_too(tmp_path):
    done = run(tmp_path, "--json", "-", stdin=BREAKING.encode(), program="ahm")
    assert done.returncode == 1
    assert len(json.loads(done.stdout)["breaches"]) == 3


def assert_one_line_error(done: subprocess.CompletedProcess, *says: str) -> None:
    stderr = done.stderr.decode()
    assert done.returncode == 2 and done.stdout == b""
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    for text in says:
        assert text in stderr


def test_a_missing_file_is_one_line_error(tmp_path):
    missing = tmp_path / "nope.txt"
    assert_one_line_error(run(tmp_path, str(missing)), str(missing), "No such file")


def test_a_folder_is_one_line_error(tmp_path):
    assert_one_line_error(run(tmp_path, str(tmp_path)), str(tmp_path))


def test_a_file_not_in_utf8_is_one_line_error(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Bitte bewerten Sie uns, schöne Grüße".encode("latin-1"))
    assert_one_line_error(run(tmp_path, str(path)), str(path), "not UTF-8")
    assert_one_line_error(run(tmp_path, stdin=b"\xff\xfe\x00"), "standard input", "not UTF-8")


def test_a_byte_order_mark_is_no_part_of_the_message(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + b"www.mystore.com")
    assert json.loads(run(tmp_path, "--json", str(path)).stdout) == {
        "breaches": [{"rule": "external_link", "phrase": "www.mystore.com"}]
    }
