"""The commands that only read files start without the store or the HTTP stack: `--help`,
`connectors list` and `flows validate` of a file without lookup tables import neither
SQLAlchemy nor httpx (what that saves is measured by benchmarks/bench_startup.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cartwire.flows.catalog import find

# Runs the CLI in-process with the given arguments, then reports which heavy modules it loaded.
_PROBE = """
import json, sys
from cartwire.cli.app import app
try:
    app(sys.argv[1:], prog_name="cartwire")
except SystemExit as exc:
    code = exc.code
loaded = [name for name in ("sqlalchemy", "httpx") if name in sys.modules]
print(json.dumps({"code": code, "loaded": loaded}))
"""

NO_LOOKUPS = "cl-orders-to-ct-orders"  # a prebuilt flow


@pytest.mark.parametrize(
    "args",
    [["--help"], ["connectors", "list"], ["flows", "validate", "FILE"]],
    ids=" ".join,
)
def test_light_commands_import_no_store_and_no_http_stack(args: list[str], tmp_path: Path) -> None:
    flow_file = tmp_path / "flow.yaml"  # FILE: a flow file that reads no lookup table
    flow_file.write_text(find(NO_LOOKUPS).text, encoding="utf-8")
    args = [str(flow_file) if arg == "FILE" else arg for arg in args]
    env = {**os.environ, "CARTWIRE_HOME": str(tmp_path)}
    env.pop("CARTWIRE_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=env, check=False
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report == {"code": 0, "loaded": []}, done.stderr
