"""How long the CLI takes to start: the median wall time of `cartwire --help` and of importing
the CLI alone, over several fresh processes.

    .venv/bin/python benchmarks/bench_startup.py [--runs 11]

Prints figures only; nothing here passes or fails on time (tests/test_startup.py checks what
the light commands import).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CARTWIRE = str(Path(sys.executable).parent / "cartwire")
COMMANDS = {
    "cartwire --help": [CARTWIRE, "--help"],
    'python -c "import cartwire.cli.app"': [sys.executable, "-c", "import cartwire.cli.app"],
}


def wall_times(argv: list[str], runs: int, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, env=env, check=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "CARTWIRE_HOME": home}
        for argv in COMMANDS.values():  # once unmeasured: bytecode compiled, files cached
            subprocess.run(argv, stdout=subprocess.DEVNULL, env=env, check=True)
        for label, argv in COMMANDS.items():
            times = wall_times(argv, args.runs, env)
            print(
                f"{label}: median {statistics.median(times):.3f} s "
                f"(min {min(times):.3f}, max {max(times):.3f}, {args.runs} runs)"
            )


if __name__ == "__main__":
    main()
