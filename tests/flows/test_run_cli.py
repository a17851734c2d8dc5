"""`cartwire flows run` and `cartwire runs …` as a user sees them: progress with totals and the
limit a run waits for, Ctrl-C that leaves a resumable run, failures grouped by reason.

Real processes against the sandboxes; a process is interrupted at a point it announces (its
progress line for the first page), while a sandbox delay fault holds its next read back.
"""

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import httpx
import yaml

from cartwire.demo import CL_INSTANCE, CT_INSTANCE
from cartwire.flows.catalog import find
from cartwire.sandbox.manager import Sandbox
from tests.flows.world import World
from tests.support import CARTWIRE, run_cli

PAGE = 10
COLUMNS = {"COLUMNS": "80"}


def _small_pages(home: Path) -> str:
    """The prebuilt products flow reading 10 products a page: several pages to land between."""
    document = yaml.safe_load(find("ct-products-to-cl-skus").text)
    document["name"] = "small-pages"
    document["source"]["page_size"] = PAGE
    (home / "flows").mkdir(exist_ok=True)
    (home / "flows" / "small-pages.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return "small-pages"


def _fault(sandbox: Sandbox, **fault: object) -> None:
    httpx.post(f"{sandbox.url}/_sandbox/faults", json=fault).raise_for_status()


def _progress_lines(stderr: str, flow: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(f"{flow}: read")]


def _read(line: str) -> int:
    found = re.search(r"read ([\d,]+)", line)
    assert found, line
    return int(found[1].replace(",", ""))


def _sigint_as_at_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_interrupts_the_run_resumably_and_resume_continues_its_counts(
    world: World,
) -> None:
    products = sum(1 for _ in world.catalogue.products())
    flow = _small_pages(world.home)
    # The first page's read passes (a fault needs an effect: a millisecond); the second's is
    # held back, so the run is surely still reading when it is interrupted after announcing
    # its first page.
    _fault(world.ct, method="GET", path="/products$", count=1, delay=0.001)
    _fault(world.ct, method="GET", path="/products$", count=1, delay=20)
    process = subprocess.Popen(
        [CARTWIRE, "flows", "run", flow, "--source", CT_INSTANCE, "--destination", CL_INSTANCE],
        env={**os.environ, "CARTWIRE_HOME": str(world.home), **COLUMNS},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as at a terminal, whoever started the suite: a shell without job control
        # starts a background command with SIGINT ignored, and a child inherits that.
        preexec_fn=_sigint_as_at_a_terminal,
    )
    assert process.stderr is not None
    seen: list[str] = []
    for line in process.stderr:
        seen.append(line)
        if line.startswith(f"{flow}: read {PAGE} "):
            process.send_signal(signal.SIGINT)
            break
    stdout, rest = process.communicate(timeout=120)
    stderr = "".join(seen) + rest
    assert f"{flow}: read {PAGE} of {products} " in stderr, stderr  # the source's total
    assert process.returncode == 130, stderr
    [run] = json.loads(run_cli(world.home, "runs", "list", "--json").stdout)
    assert (run["status"], run["error"], run["read"]) == ("interrupted", None, PAGE)
    assert f"interrupted; resume with `cartwire runs resume {run['run_id']}`" in stderr
    assert "KeyboardInterrupt" not in stdout + stderr
    assert f"run {run['run_id']} interrupted" in stdout

    resumed = run_cli(world.home, "runs", "resume", str(run["run_id"]), env=COLUMNS)
    assert resumed.returncode == 0, resumed.stderr
    lines = _progress_lines(resumed.stderr, flow)
    assert _read(lines[0]) == PAGE, resumed.stderr  # continues from the run's counts, not 0
    assert _read(lines[-1]) == products
    assert f"of {products}" in lines[-1]
    done = json.loads(run_cli(world.home, "runs", "show", str(run["run_id"]), "--json").stdout)
    assert (done["status"], done["read"]) == ("succeeded", products)


def test_progress_says_which_limit_a_run_waits_for(world: World) -> None:
    # Commerce Layer's limits switched on, tiny: eight writes per two seconds.
    httpx.patch(
        f"{world.cl.url}/_sandbox/config",
        json={
            "rate_limits": {
                "average": 8,
                "average_window": 2,
                "burst": 100,
                "burst_window": 1,
                "cacheable_average": 1000,
                "cacheable_burst": 1000,
            }
        },
    ).raise_for_status()
    done = run_cli(
        world.home,
        "flows",
        "run",
        "ct-customers-to-cl-customers",
        "--source",
        CT_INSTANCE,
        "--destination",
        CL_INSTANCE,
        env=COLUMNS,
    )
    assert done.returncode == 0, done.stderr
    assert "ct-customers-to-cl-customers: waiting for Commerce Layer write limit" in done.stderr
    # the limit's window, then how long: the class's average or its burst on one endpoint
    limit = r"waiting for Commerce Layer write limit( on customers)?, \d+ per [\d.]+ s( burst)?"
    assert re.search(limit + r", \d+ s\n", done.stderr), done.stderr


def test_failures_are_grouped_by_reason_with_their_keys(world: World) -> None:
    (world.home / "eur.csv").write_text("source,target\nEUR,eur\n")
    imported = run_cli(
        world.home, "lookups", "import", "currencies-to-price-lists", str(world.home / "eur.csv")
    )
    assert imported.returncode == 0, imported.stderr
    ran = run_cli(
        world.home,
        "flows",
        "run",
        "ct-products-to-cl-skus",
        "--source",
        CT_INSTANCE,
        "--destination",
        CL_INSTANCE,
        env=COLUMNS,
    )
    assert ran.returncode == 1, ran.stderr  # partially succeeded
    run_id = re.search(r"run (\d+)", ran.stdout)
    assert run_id
    shown = json.loads(run_cli(world.home, "runs", "show", run_id[1], "--json").stdout)
    groups = shown["failure_groups"]
    product_keys = {p.key for p in world.catalogue.products()}
    assert sorted(g["message"].split("value ")[1][:5] for g in groups) == ["'GBP'", "'USD'"]
    assert sum(g["count"] for g in groups) == shown["failed"] == len(shown["failures"])
    for group in groups:
        assert (group["output"], group["code"]) == ("prices", "mapping")
        assert 1 <= len(group["keys"]) <= 3
        assert set(group["keys"]) <= product_keys  # each names its source record
        assert len(set(group["keys"])) == len(group["keys"])
    assert all(f["key"] in product_keys for f in shown["failures"])

    text = run_cli(world.home, "runs", "show", run_id[1], env=COLUMNS).stdout
    for output in (ran.stdout, text):
        reasons = [line for line in output.splitlines() if " failed (mapping): " in line]
        assert len(reasons) == 2, output  # one line per reason, not one per record
        for group, line in zip(groups, reasons, strict=True):
            assert line.startswith(f"{group['count']:,} prices failed (mapping): ")
            assert f"keys: {', '.join(group['keys'])}" in line
