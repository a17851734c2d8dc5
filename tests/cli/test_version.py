"""`cartwire --version`: what a bug report needs first."""

from pathlib import Path

import cartwire
from tests.support import run_cli


def test_version(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"cartwire {cartwire.__version__}"
