"""`cartwire ARGS` that halts its run at a page it announces, so a test SIGKILLs it exactly there
(not collected by pytest).

`python -m tests.flows.paused_cli PAGE WHEN FD -- ARGS...` runs the real CLI in this process; just
before (WHEN=before) or just after (WHEN=after) the run commits its PAGE-th page it writes
`paused` to the file descriptor FD and sleeps, so the kill lands mid-run on any machine: before
the commit the page's records are in the destination but not in the store's checkpoint, after it
they are in both.
"""

import os
import sys
import time
from unittest.mock import patch

from cartwire.cli.app import main as cartwire
from cartwire.store.runs import PageProgress, Runs


def main() -> None:
    page, when, fd, separator, *args = sys.argv[1:]
    assert when in ("before", "after"), sys.argv
    assert separator == "--", sys.argv
    commit_page = Runs.commit_page
    committed = 0

    def halt() -> None:
        os.write(int(fd), b"paused\n")
        time.sleep(600)
        sys.exit("not killed")

    def paused_commit_page(
        self: Runs, run_id: int, progress: PageProgress, fence: int | None = None
    ) -> bool:
        nonlocal committed
        if committed + 1 == int(page) and when == "before":
            halt()
        stop = commit_page(self, run_id, progress, fence)
        committed += 1
        if committed == int(page):
            halt()
        return stop

    sys.argv = ["cartwire", *args]
    with patch.object(Runs, "commit_page", paused_commit_page):
        cartwire()


if __name__ == "__main__":
    main()
