#!/usr/bin/env python3
"""Standalone executables: size, cold and warm start, stub overhead.

    python3 bench/standalone.py [--runs N] [--no-pyinstaller]

Builds `black` with `pyzap build --standalone` from ../shared/wheelhouse and
the CPython fixture in ../shared/python-dist (target/release/pyzap must
exist: `cargo build --release`), then measures:

- the stub (pyzap-launcher, which pyzap carries) size and the executable's size;
- cold first run (fresh PYZAP_ROOT: unpack CPython and black's native code);
- warm start against running the extracted interpreter directly on the same
  file (`<root>/python/<id>/bin/python3.11 ./black --version`), interleaved
  so machine noise hits both alike; the target is a ratio within 1.05;
- the stub's own cost on a one-line app (`print("hi")`), where Python's
  start-up is smallest; the target is < 2 ms;
- PyInstaller --onefile black from bench/.venv when it is set up (run
  `python3 bench/run.py --quick` once). pex --scie cannot be built here: it
  downloads the scie-jump binary from GitHub.

Only the standard library is used; everything goes to a scratch directory.
"""

import argparse
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared")


def ms(cmd, env=None):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=True)
    return (time.perf_counter() - start) * 1000


def paired(a, b, runs, env):
    """Interleaved medians of two commands."""
    xs, ys = [], []
    for _ in range(runs):
        xs.append(ms(a, env))
        ys.append(ms(b, env))
    return statistics.median(xs), statistics.median(ys)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--no-pyinstaller", action="store_true")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    pyzap = os.path.join(REPO, "target", "release", "pyzap")
    dist = glob.glob(os.path.join(SHARED, "python-dist", "*install_only.tar.gz"))[0]
    work = tempfile.mkdtemp(prefix="pyzap-sa-bench-")
    env = dict(os.environ, PYZAP_CACHE_DIR=os.path.join(work, "build-cache"))
    for var in ("PYTHONPATH", "PYTHONHOME", "PYZAP_INTERPRETER", "PYZAP_ENTRY_POINT"):
        env.pop(var, None)
    rows = []
    try:
        black = os.path.join(work, "black")
        start = time.perf_counter()
        subprocess.run([pyzap, "build", "black", "-c", "black", "-f", os.path.join(SHARED, "wheelhouse"),
                        "--no-index", "--standalone", "--python-dist", dist, "-o", black, "-q"],
                       env=env, check=True)
        build_s = time.perf_counter() - start
        tiny_src = os.path.join(work, "tiny")
        os.makedirs(tiny_src)
        with open(os.path.join(tiny_src, "__main__.py"), "w") as f:
            f.write('print("hi")\n')
        tiny = os.path.join(work, "tiny-app")
        subprocess.run([pyzap, "build", "--src", tiny_src, "--standalone", "--python-dist", dist,
                        "-o", tiny, "-q"], env=env, check=True)

        colds = []
        for i in range(5):
            root = os.path.join(work, "cold-%d" % i)
            colds.append(ms([black, "--version"], dict(env, PYZAP_ROOT=root)))
        root = os.path.join(work, "root")
        renv = dict(env, PYZAP_ROOT=root)
        ms([black, "--version"], renv)
        ms([tiny], renv)
        python = glob.glob(os.path.join(root, "python", "*", "bin", "python3.11"))[0]
        warm, direct = paired([black, "--version"], [python, black, "--version"], args.runs, renv)
        t_stub, t_direct = paired([tiny], [python, tiny], args.runs * 3, renv)
        rows.append(("pyzap --standalone", os.path.getsize(black), statistics.median(colds), warm))
        info = subprocess.run([pyzap, "info", black], env=env, check=True, capture_output=True, text=True).stdout
        stub = int(re.search(r"launcher (\d+) bytes", info).group(1))
        print("pyzap-launcher stub: %d bytes (%.0f KiB)" % (stub, stub / 1024))
        print("build: %.1f s" % build_s)
        print("black --version cold (fresh cache, 5 runs): median %.0f ms, max %.0f ms"
              % (statistics.median(colds), max(colds)))
        print("black --version warm: %.1f ms; extracted interpreter directly: %.1f ms; ratio %.3f (target <= 1.05)"
              % (warm, direct, warm / direct))
        print("stub overhead on print('hi'): %.1f ms vs %.1f ms direct = %.2f ms (target < 2 ms)"
              % (t_stub, t_direct, t_stub - t_direct))

        venv = os.path.join(REPO, "bench", ".venv")
        wheels = os.path.join(venv, "peer-wheels", "pyinstaller")
        if not args.no_pyinstaller and os.path.isdir(wheels):
            pi_venv = os.path.join(work, "pi-venv")
            subprocess.run([os.path.join(venv, "bin", "python"), "-m", "venv", pi_venv], check=True)
            pip = os.path.join(pi_venv, "bin", "pip")
            subprocess.run([pip, "install", "-q", "--no-index", "-f", os.path.join(SHARED, "wheelhouse"),
                            "-f", wheels, "black", "pyinstaller"], check=True)
            entry = os.path.join(work, "black_entry.py")
            with open(entry, "w") as f:
                f.write("from black import patched_main\npatched_main()\n")
            subprocess.run([os.path.join(pi_venv, "bin", "pyinstaller"), "--onefile", "--noconfirm",
                            "--log-level", "WARN", "--name", "black-pi", "--distpath", work,
                            "--workpath", os.path.join(work, "pi-build"), "--specpath", work,
                            "--collect-submodules", "black", entry], check=True, env=env)
            pi = os.path.join(work, "black-pi")
            pi_cold = [ms([pi, "--version"], env) for _ in range(5)]  # onefile unpacks at every run
            pi_warm, _ = paired([pi, "--version"], [pi, "--version"], args.runs // 2, env)
            rows.append(("PyInstaller --onefile", os.path.getsize(pi), statistics.median(pi_cold), pi_warm))
        rows.append(("pex --scie", None, None, None))
        print("\n| tool | size | cold first run | warm run |\n|---|---|---|---|")
        for name, size, cold, warm in rows:
            if size is None:
                print("| %s | not buildable here (downloads scie-jump from GitHub) | | |" % name)
            else:
                print("| %s | %.1f MB | %.0f ms | %.0f ms |" % (name, size / 1e6, cold, warm))
    finally:
        if args.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
