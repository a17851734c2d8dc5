"""Schemathesis against `/openapi.json` with an admin key: every operation, generated input,
no 500. A server of its own, since the fuzzer deletes and replaces whatever it finds.

The seed is fixed so that a failure reproduces (`st replay` with the id it prints); the figures
(operations, examples, failures) are printed for the closing note."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cartwire.sandbox.manager import Sandbox
from tests.api.served import served

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")


def test_no_generated_request_gets_a_server_error(
    tmp_path: Path, sandboxes: dict[str, Sandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    with served(tmp_path / "home") as server:
        done = subprocess.run(
            [
                SCHEMATHESIS,
                "run",
                f"{server.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {server.key('admin')}",
                "--checks",
                "not_a_server_error",
                "--phases",
                "examples,fuzzing",
                "--max-examples",
                "15",
                "--seed",
                "20261204",
                "--no-color",
            ],
            cwd=tmp_path,  # its cache (.schemathesis/) stays out of the checkout
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
    report = done.stdout
    tested = re.search(r"Tested: (\d+)", report)
    generated = re.search(r"(\d+) generated", report)
    with capsys.disabled():
        print(
            f"\nschemathesis: {tested[1] if tested else '?'} operations, "
            f"{generated[1] if generated else '?'} examples, exit {done.returncode}"
        )
    assert done.returncode == 0, report[-6000:] + done.stderr[-2000:]
    assert tested is not None
    assert int(tested[1]) >= 30
