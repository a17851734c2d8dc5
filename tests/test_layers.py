"""The engine stands on its own: nothing in it imports the command line, the HTTP API and web UI,
the workers or the application services those shells call, and it reaches
platforms only through their registry (`cartwire.platforms.registry`), never a platform package;
the sandboxes import none of cartwire's client code (platforms included), so a misunderstanding
shared by client and server cannot hide in shared code.

Checked twice: statically, every import statement in the packages' source (including imports
inside functions), and at run time, every module loaded after importing all of them in a fresh
interpreter (which catches a forbidden import reached through a module outside the list).
"""

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import cartwire
import cartwire.platforms

SOURCE = Path(cartwire.__file__).parent
ENGINE = ("resources", "http", "auth", "connectors", "store", "instances", "flows")
FRONT_ENDS = ("cartwire.cli", "cartwire.api", "cartwire.web", "cartwire.workers")
SERVICES = ("cartwire.services",)
PLATFORMS = tuple(
    f"cartwire.platforms.{info.name}"
    for info in pkgutil.iter_modules(cartwire.platforms.__path__)
    if info.name != "registry"
)
ABOVE_THE_ENGINE = (*FRONT_ENDS, *SERVICES, *PLATFORMS)
CLIENT_CODE = tuple(
    f"cartwire.{name}"
    for name in ("connectors", "auth", "http", "resources", "instances", "flows", "platforms")
)
RULES = [(ENGINE, ABOVE_THE_ENGINE), (("sandbox",), CLIENT_CODE)]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of the cartwire modules a source file imports, anywhere in it."""
    package = (
        _module_name(path)
        if path.name == "__init__.py"
        else _module_name(path.parent / "__init__.py")
    )
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name.startswith("cartwire")}


def _sources(packages: tuple[str, ...]) -> list[Path]:
    return sorted(path for name in packages for path in (SOURCE / name).rglob("*.py"))


def _forbidden(names: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes))


def test_both_platforms_are_known_to_the_rules() -> None:
    assert {"cartwire.platforms.commercetools", "cartwire.platforms.commercelayer"} <= set(
        PLATFORMS
    )


@pytest.mark.parametrize(("packages", "forbidden"), RULES)
def test_no_source_file_imports_across_the_line(
    packages: tuple[str, ...], forbidden: tuple[str, ...]
) -> None:
    offenders = {
        str(path.relative_to(SOURCE)): found
        for path in _sources(packages)
        if (found := _forbidden(_imports(path), forbidden))
    }
    assert offenders == {}


_LOAD_ALL = """
import importlib, json, pkgutil, sys
for package in sys.argv[1:]:
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        # Scripts, not modules: a `__main__` runs a server, migrations run inside Alembic.
        if not info.name.endswith("__main__") and ".migrations." not in info.name:
            importlib.import_module(info.name)
print(json.dumps(sorted(name for name in sys.modules if name.startswith("cartwire"))))
"""


@pytest.mark.parametrize(("packages", "forbidden"), RULES)
def test_importing_every_module_loads_nothing_across_the_line(
    packages: tuple[str, ...], forbidden: tuple[str, ...]
) -> None:
    names = [f"cartwire.{p}" for p in packages]
    done = subprocess.run(
        [sys.executable, "-c", _LOAD_ALL, *names], capture_output=True, text=True, check=True
    )
    loaded = set(json.loads(done.stdout))
    assert set(names) <= loaded
    assert _forbidden(loaded, forbidden) == []


# The shells reach the engine only through the service layer. Besides it they may use what is
# neither engine nor shell: the log set-up and redaction (`logs`), the data directory (`home`),
# the version (`cartwire`), and the local sandboxes (`sandbox`, a development tool of its own).
SHELLS = (SOURCE / "cli", SOURCE / "api", SOURCE / "workers", SOURCE / "demo.py")
BELOW_THE_SERVICES = tuple(
    f"cartwire.{name}"
    for name in (
        "resources",
        "http",
        "auth",
        "connectors",
        "store",
        "instances",
        "flows",
        "platforms",
    )
)


@pytest.mark.parametrize("shell", SHELLS, ids=lambda path: path.name)
def test_shells_import_the_engine_only_through_the_services(shell: Path) -> None:
    paths = sorted(shell.rglob("*.py")) if shell.is_dir() else [shell]
    offenders = {
        str(path.relative_to(SOURCE)): found
        for path in paths
        if (found := _forbidden(_imports(path), BELOW_THE_SERVICES))
    }
    assert offenders == {}


# Celery is an optional dependency and a shell's business: only the workers and the service
# layer's queue (which configures it for senders and workers alike) import it.
CELERY_USERS = (SOURCE / "workers", SOURCE / "services" / "queue.py")


def _third_party_imports(path: Path) -> set[str]:
    """The top-level names of the modules a source file imports, anywhere in it."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_only_the_workers_and_the_queue_import_celery() -> None:
    allowed = {
        path for user in CELERY_USERS for path in (user.rglob("*.py") if user.is_dir() else [user])
    }
    users = {
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        if {"celery", "kombu"} & _third_party_imports(path)
    }
    assert users <= {str(path.relative_to(SOURCE)) for path in allowed}
    assert "services/queue.py" in users  # (the check sees imports at all)
