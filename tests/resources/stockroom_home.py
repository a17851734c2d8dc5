"""A cartwire home holding one of the worked example's connector files and its flow, and
instances added to it the way a user adds them: `cartwire instances add` in a real process."""

import json
import shutil
from pathlib import Path
from typing import Any

from tests.resources.example_api import CLIENT_ID, CLIENT_SECRET
from tests.support import run_cli

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


def stockroom_home(home: Path, example: str) -> str:
    """`home` with docs/examples/EXAMPLE's connector file and flow copied in, as a user would;
    the flow's name."""
    (home / "connectors").mkdir(parents=True, exist_ok=True)
    (home / "flows").mkdir(exist_ok=True)
    shutil.copy(EXAMPLES / example / "connector.yaml", home / "connectors" / f"{example}.yaml")
    flow = f"{example}-supplier-to-shop"
    shutil.copy(EXAMPLES / example / "supplier-to-shop.yaml", home / "flows" / f"{flow}.yaml")
    return flow


def add_instance(home: Path, connector: str, name: str, url: str) -> None:
    """Non-interactively, the secret on stdin; the credentials are tested (a token issued)."""
    done = run_cli(
        home,
        "instances",
        "add",
        connector,
        "--name",
        name,
        "--set",
        f"host={url}",
        "--set",
        f"client_id={CLIENT_ID}",
        "--stdin",
        "client_secret",
        stdin=CLIENT_SECRET + "\n",
    )
    assert done.returncode == 0, done.stdout + done.stderr


def cli(home: Path, *args: str) -> str:
    done = run_cli(home, *args, env={"COLUMNS": "200"})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def run_flow(home: Path, flow: str, *args: str) -> dict[str, Any]:
    """`flows run FLOW --source supplier --destination shop --json`: its summary."""
    out = cli(
        home, "flows", "run", flow, "--source", "supplier", "--destination", "shop", "--json", *args
    )
    summary: dict[str, Any] = json.loads(out)
    return summary
