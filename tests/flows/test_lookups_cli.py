"""`cartwire lookups import|export|list`: CSV in, CSV out, all or nothing."""

import json
from pathlib import Path

from tests.support import run_cli


def test_import_export_list(tmp_path: Path) -> None:
    table = tmp_path / "channels.csv"
    table.write_text("source,target\neu-warehouse,eu\nus-warehouse,us\n")
    done = run_cli(tmp_path, "lookups", "import", "channels", str(table), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"table": "channels", "rows": 2}
    exported = run_cli(tmp_path, "lookups", "export", "channels")
    assert exported.stdout.splitlines() == ["source,target", "eu-warehouse,eu", "us-warehouse,us"]
    assert json.loads(run_cli(tmp_path, "lookups", "list", "--json").stdout) == {"channels": 2}


def test_a_bad_file_changes_nothing(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("source,target\na,1\n")
    assert run_cli(tmp_path, "lookups", "import", "t", str(good)).returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("source,target\nb,2\nb,3\n,4\n")
    done = run_cli(tmp_path, "lookups", "import", "t", str(bad))
    assert done.returncode == 2
    assert "line 3" in done.stderr
    assert run_cli(tmp_path, "lookups", "export", "t").stdout.splitlines()[1:] == ["a,1"]
