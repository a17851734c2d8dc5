"""The live progress line at a terminal 80 columns wide: what a rate limit holds the run back
for must stay readable (it was squeezed into a column a word wide, one word per line)."""

import io
import re

import pytest
from rich.console import Console

from cartwire.cli import progress
from cartwire.flows.progress import Update
from cartwire.http.waiting import Wait

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def test_a_wait_reads_whole_on_an_80_column_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=80, highlight=False)
    monkeypatch.setattr(progress, "err", terminal)
    counts = {"read": 0, "created": 0, "failed": 0, "skipped": 0}
    wait = Wait("Commerce Layer write limit on customers", "2 per 10 s burst", 11)
    with progress.progress_bar(True, "ct-customers-to-cl-customers") as update:
        update(Update("start", counts))
        update(Update("waiting", counts, wait=wait))
    # The last frame drawn, as one paragraph: rich may wrap it, but never cut words off.
    frame = ANSI.sub("", screen.getvalue()).split("\r")[-1]
    text = " ".join(frame.split())
    assert "ct-customers-to-cl-customers: read 0 · written 0 · failed 0 · skipped 0" in text
    assert "waiting for Commerce Layer write limit on customers, 2 per 10 s burst," in text
    assert "…" not in text
    assert all(len(line) <= 80 for line in ANSI.sub("", screen.getvalue()).splitlines())
