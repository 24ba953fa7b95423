"""Start-up benchmark: what does ``wargame --help`` cost beyond starting Python?

    .venv/bin/python benchmarks/cli_startup.py [--repeats N]

Both commands run in fresh processes with this interpreter, interleaved (``python -c pass``, then
``python -m engine --help``, N times), so that a change in machine load falls on both alike:

- wall time: from spawning the process to its exit (stdout to a pipe), without ``-X importtime``
  (which slows imports); the median of each, and their difference: what ``wargame --help`` adds
  to Python's own start, imports and the rendering of the help included;
- import time: the same two commands under ``python -X importtime``; the sum of every module's
  own ("self") import time, the median of each and the difference, and the number of modules
  imported beyond Python's own;
- heavy modules: none of dask, pyarrow, matplotlib, numpy, simpy, starlette or uvicorn may be
  imported by ``--help`` (the commands import what they need when they run).

Prints plain text with PASS or MISS against each target and exits 0 either way: it is a
measurement, not a test (tests/cli/test_cli_terminal.py checks the heavy modules).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time

from common import table, verdict  # benchmarks/common.py (scripts run from this folder)

TARGET_EXTRA_S = 0.3  # wargame --help beyond python -c pass, median wall time
HEAVY = ("dask", "pyarrow", "matplotlib", "numpy", "simpy", "starlette", "uvicorn")
PASS = [sys.executable, "-c", "pass"]
HELP = [sys.executable, "-m", "engine", "--help"]


def wall(args: list[str]) -> float:
    """Seconds from spawning the command to its exit."""
    start = time.perf_counter()
    subprocess.run(args, capture_output=True, check=True, env=_env())
    return time.perf_counter() - start


def imports(args: list[str]) -> tuple[float, list[str]]:
    """Seconds of import (the sum of every module's own time) and the modules imported, from
    ``-X importtime``."""
    done = subprocess.run([args[0], "-X", "importtime", *args[1:]], capture_output=True,
                          text=True, check=True, env=_env())
    total, names = 0, []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = line[len("import time:"):].split("|")
        total += int(own)
        names.append(name.strip())
    return total / 1e6, names


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["COLUMNS"] = "100"
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="runs of each command")
    a = parser.parse_args()

    from engine import __version__

    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"engine {__version__}; load average {os.getloadavg()[0]:.2f}")
    for args in (PASS, HELP):  # warm the file cache and the bytecode
        wall(args)
    walls: dict[str, list[float]] = {"pass": [], "help": []}
    spent: dict[str, list[float]] = {"pass": [], "help": []}
    modules: dict[str, list[str]] = {}
    for _ in range(a.repeats):
        for key, args in (("pass", PASS), ("help", HELP)):
            walls[key].append(wall(args))
            seconds, names = imports(args)
            spent[key].append(seconds)
            modules[key] = names

    med = {k: statistics.median(v) for k, v in walls.items()}
    imp = {k: statistics.median(v) for k, v in spent.items()}
    extra = med["help"] - med["pass"]
    rows = [["python -c pass", f"{med['pass'] * 1000:.0f}", f"{imp['pass'] * 1000:.0f}",
             str(len(modules["pass"]))],
            ["wargame --help", f"{med['help'] * 1000:.0f}", f"{imp['help'] * 1000:.0f}",
             str(len(modules["help"]))],
            ["difference", f"{extra * 1000:+.0f}", f"{(imp['help'] - imp['pass']) * 1000:+.0f}",
             f"{len(modules['help']) - len(modules['pass']):+d}"]]
    print(f"\nmedians of {a.repeats} interleaved runs each (wargame --help run as "
          "python -m engine --help)")
    print(table(rows, ["command", "wall ms", "import ms (-X importtime)", "modules"],
                {1, 2, 3}))
    heavy = sorted({n for n in modules["help"] if n.split(".")[0] in HEAVY})
    print()
    print(f"{verdict(extra < TARGET_EXTRA_S)}  wargame --help beyond python -c pass: "
          f"{extra:.3f} s (target < {TARGET_EXTRA_S} s)")
    print(f"{verdict(not heavy)}  heavy modules imported by --help: "
          f"{', '.join(heavy) if heavy else 'none'} (of {', '.join(HEAVY)})")
    slowest = _slowest(HELP)
    print("\nslowest imports of --help (cumulative ms, one run):")
    for name, ms in slowest:
        print(f"  {ms:7.1f}  {name}")


def _slowest(args: list[str], n: int = 8) -> list[tuple[str, float]]:
    done = subprocess.run([args[0], "-X", "importtime", *args[1:]], capture_output=True,
                          text=True, check=True, env=_env())
    top = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "self [us]" not in line:
            _, cumulative, name = line[len("import time:"):].split("|")
            if not name.startswith("   "):  # top-level imports only (nesting is indented)
                top.append((name.strip(), int(cumulative) / 1000))
    return sorted(top, key=lambda x: -x[1])[:n]


if __name__ == "__main__":
    main()
