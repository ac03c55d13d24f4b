#!/usr/bin/env python3
"""pyzap benchmark suite: pyzap vs pex, shiv, stdlib zipapp, uv, venv and PyInstaller.

    python3 bench/run.py [--quick] [--out DIR]

Creates bench/.venv (CPython 3.11) with the pinned peers from
bench/requirements.txt the first time, re-executes itself inside it, serves
../shared/wheelhouse as a local index on 127.0.0.1 (pyzap-test-index, the
Rust tests' index server), runs every workload with
every tool, and writes results.json, results.md and ratios.png to
bench/results/ (the markdown table also goes to stdout).  See bench/README.md.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
VENV = BENCH / ".venv"
STAMP = VENV / ".bench-requirements.sha256"
PEER_WHEELS = VENV / "peer-wheels"
WORKLOADS = ("black", "flask-gunicorn", "echo-wsgi", "requests", "black-cp39", "large")
# PyInstaller's builds alone would take ~15 min of a full run; by default it
# runs on the headline workload only (see README, "Time budget").
FULL_PYINSTALLER = "black"
# pyzap's standalone executables, next to PyInstaller (its peer) by default.
DEFAULT_STANDALONE = "black"
PEX_BUILD_HELPERS = ["wheel==0.37.1"]
DEFAULT_WHEELHOUSE = (REPO.parent / "shared" / "wheelhouse").resolve()
DEFAULT_PYTHON_DIST_GLOB = str(REPO.parent / "shared" / "python-dist" / "*install_only.tar.gz")


def find_python311():
    env = os.environ.get("PYZAP_BENCH_PYTHON")
    if env:
        return env
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.11*/bin/python3.11")), reverse=True)
    for c in candidates + [shutil.which("python3.11") or ""]:
        if c and os.access(c, os.X_OK):
            return c
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    raise SystemExit("no CPython 3.11 found: set PYZAP_BENCH_PYTHON=/path/to/python3.11")


def in_bench_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv():
    """Create bench/.venv and install the pinned peers (from PyPI, once)."""
    req = BENCH / "requirements.txt"
    digest = hashlib.sha256(req.read_bytes() + repr(PEX_BUILD_HELPERS).encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest and (VENV / "bin" / "python").exists():
        return
    py = find_python311()
    print(f"setting up {VENV} with {py} (first run only; needs PyPI) ...", file=sys.stderr, flush=True)
    if not (VENV / "bin" / "python").exists():
        subprocess.run([py, "-m", "venv", str(VENV)], check=True)
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(pip + ["install", "--quiet", "-r", str(req)], check=True)
    # PyInstaller must be installed next to the app it freezes: keep its wheels
    # so each PyInstaller build installs it from this folder, not from PyPI.
    pin = next(l.split("==")[1].strip() for l in req.read_text().splitlines() if l.startswith("pyinstaller=="))
    shutil.rmtree(PEER_WHEELS, ignore_errors=True)
    subprocess.run(pip + ["download", "--quiet", "--only-binary", ":all:", "-d", str(PEER_WHEELS / "pyinstaller"),
                          f"pyinstaller=={pin}"], check=True)
    # pex's default (vendored) pip builds local projects and sdists with
    # wheel==0.37.1, which the wheelhouse does not have: give pex that one wheel.
    subprocess.run(pip + ["download", "--quiet", "--no-deps", "-d", str(PEER_WHEELS / "pex"), *PEX_BUILD_HELPERS], check=True)
    STAMP.write_text(digest + "\n")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="black and echo-wsgi only, 3 builds per figure, 5 start-up runs, no pex or PyInstaller (< 3 min)")
    p.add_argument("--out", default=str(BENCH / "results"), help="where results.json/.md and ratios.png go (default: bench/results)")
    p.add_argument("--workloads", help="comma-separated subset: " + ",".join(WORKLOADS))
    p.add_argument("--tools", help="comma-separated subset: pyzap,pex,shiv,zipapp,uv,venv,pyinstaller,pyzap-standalone")
    p.add_argument("--build-runs", type=int, help="builds per tool and cache state (default 5, quick 3)")
    p.add_argument("--start-runs", type=int, help="runs per start-up figure (default 5; keep it at 5 or more)")
    p.add_argument("--pyinstaller", default=None,
                   help=f"workloads PyInstaller builds: 'all', 'none' or a comma list (default: {FULL_PYINSTALLER})")
    p.add_argument("--standalone", default=None,
                   help=f"workloads pyzap-standalone builds: 'all', 'none' or a comma list (default: {DEFAULT_STANDALONE})")
    p.add_argument("--python-dist", default=None,
                   help="CPython distribution for pyzap-standalone (default: ../shared/python-dist/*install_only.tar.gz)")
    p.add_argument("--pyzap", default=None, help="the pyzap binary (default: target/release/pyzap, built with cargo if missing)")
    p.add_argument("--no-cargo", action="store_true",
                   help="never run cargo; a missing pyzap is recorded as a failure, pyzap-test-index must be in target/")
    p.add_argument("--baseline", default="pyzap", help="the tool the ratios divide by (default: pyzap)")
    p.add_argument("--wheelhouse", default=str(DEFAULT_WHEELHOUSE), help="folder served as the local index")
    p.add_argument("--work", help="scratch directory (default: a new one under $TMPDIR, removed at the end)")
    p.add_argument("--keep", action="store_true", help="keep the scratch directory")
    p.add_argument("--from-json", metavar="RESULTS_JSON", help="only redo the table and chart from an earlier results.json")
    p.add_argument("--build-timeout", type=float, default=900, help="seconds before one build step is killed")
    args = p.parse_args(argv)
    args.build_runs = args.build_runs or (3 if args.quick else 5)
    args.start_runs = args.start_runs or 5
    if args.quick and not args.workloads:
        args.workloads = "black,echo-wsgi"
    args.skip, args.skip_reason = {}, {}
    explicit = {t.strip() for t in (args.tools or "").split(",") if t.strip()}
    if args.quick:  # the two slowest peers; --tools brings them back
        for tool, why in (("pex", "skipped in --quick (its builds and ~1-2 s start-ups cost ~45 s per workload)"),
                          ("pyinstaller", "skipped in --quick (a --onefile build takes ~20 s per run)")):
            if tool not in explicit:
                args.skip[tool], args.skip_reason[tool] = True, why
    restrict(args, "pyinstaller", "--pyinstaller", args.pyinstaller, "all" if args.quick else FULL_PYINSTALLER,
             ": its --onefile builds take 17-20 s each whatever the app, so the other workloads would add ~15 min "
             "to the full run (`--pyinstaller all` includes them)")
    restrict(args, "pyzap-standalone", "--standalone", args.standalone, DEFAULT_STANDALONE,
             ", next to PyInstaller (`--standalone all` includes every workload)")
    if args.python_dist is None:
        found = sorted(glob.glob(DEFAULT_PYTHON_DIST_GLOB))
        args.python_dist = found[-1] if found else DEFAULT_PYTHON_DIST_GLOB
    return args


def restrict(args, tool, option, given, default, why_default):
    """Apply `option` (all | none | a comma list of workloads) to `tool`:
    the workloads it does not build are recorded in args.skip with a reason."""
    if tool in args.skip:
        return
    value = given or default
    if value == "none":
        args.skip[tool], args.skip_reason[tool] = True, f"skipped ({option} none)"
    elif value != "all":
        keep = {w.strip() for w in value.split(",")}
        args.skip[tool] = {w for w in WORKLOADS if w not in keep}
        args.skip_reason[tool] = (f"built for {value} only{why_default}" if given is None
                                  else f"built for {value} only ({option} {value})")


def find_pyzap(args):
    if args.pyzap:
        return str(Path(args.pyzap).resolve())
    binary = REPO / "target" / "release" / "pyzap"  # carries the stub of --standalone
    if not binary.exists() and not args.no_cargo and shutil.which("cargo"):
        print("building pyzap: cargo build --release -p pyzap-cli (not timed) ...",
              file=sys.stderr, flush=True)
        r = subprocess.run(["cargo", "build", "--release", "-p", "pyzap-cli"], cwd=REPO)
        if r.returncode != 0:
            print("cargo build failed: pyzap will be recorded as failed", file=sys.stderr)
    return str(binary)


def main(argv):
    args = parse_args(argv)
    if not Path(args.wheelhouse).is_dir():
        raise SystemExit(f"no wheelhouse at {args.wheelhouse}: pass --wheelhouse DIR")
    if not in_bench_venv():
        ensure_venv()
        os.execv(str(VENV / "bin" / "python"), [str(VENV / "bin" / "python"), str(Path(__file__).resolve()), *argv])
    ensure_venv()  # requirements.txt changed since the venv was made
    sys.path.insert(0, str(BENCH))
    from pyzapbench import report, runner

    if args.from_json:
        import json

        results = json.loads(Path(args.from_json).read_text())
    else:
        args.pyzap = find_pyzap(args)
        from pyzapbench.index import index_binary

        args.index_binary = index_binary(cargo=not args.no_cargo)
        results = runner.main(args, BENCH)
    md = report.write_all(results, Path(args.out))
    print(md)
    print(f"wrote {Path(args.out) / 'results.json'}, results.md, ratios.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
