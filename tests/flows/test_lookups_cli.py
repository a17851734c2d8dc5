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


def test_a_file_that_is_not_utf8_or_a_bad_table_name_changes_nothing(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("source,target\na,1\n")
    assert run_cli(tmp_path, "lookups", "import", "t", str(good)).returncode == 0
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"source,target\nb,2\n\xe9,3\n")
    done = run_cli(tmp_path, "lookups", "import", "t", str(latin1))
    assert done.returncode == 2
    assert "line 3: not UTF-8 text" in done.stderr
    assert "Traceback" not in done.stderr
    named = run_cli(tmp_path, "lookups", "import", "Currencies To Lists", str(good))
    assert named.returncode == 2
    assert 'bad table name "Currencies To Lists": use lowercase letters' in named.stderr
    assert json.loads(run_cli(tmp_path, "lookups", "list", "--json").stdout) == {"t": 1}


def test_the_help_shows_the_csv_format(tmp_path: Path) -> None:
    shown = run_cli(tmp_path, "lookups", "import", "--help", env={"COLUMNS": "200"}).stdout
    assert "first line is the header `source,target`" in shown
    assert "Blank lines are skipped" in shown
    assert "A source given twice" in shown
