"""Plain output a user copies: `cartwire --version`, `cartwire flows show`."""

from pathlib import Path

import cartwire
from cartwire.flows.catalog import find
from tests.support import run_cli


def test_version(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"cartwire {cartwire.__version__}"


def test_flows_show_prints_the_file_as_it_is(tmp_path: Path) -> None:
    """Unwrapped whatever the terminal width, so the output is the YAML to copy and edit."""
    done = run_cli(tmp_path, "flows", "show", "ct-products-to-cl-skus", env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stderr
    origin, text = done.stdout.split("\n", 1)
    assert origin == "# prebuilt"
    assert text.rstrip("\n") == find("ct-products-to-cl-skus").text.rstrip("\n")
