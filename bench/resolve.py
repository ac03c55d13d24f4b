#!/usr/bin/env python3
"""Resolve-and-download benchmark: pyzap vs pip vs uv on a local index.

    cargo build --release && bench/.venv/bin/python bench/resolve.py [--runs 5]

Serves ../shared/wheelhouse on 127.0.0.1 as a PEP 691 (JSON) and a PEP 503
(HTML) simple index, both with PEP 658 metadata files and single-range
requests (test-support's pyzap-test-index, the Rust tests' index server,
built with cargo first), and times, per index variant, with empty caches
(cold) and with the cache the tool's previous run filled (warm), tools
alternating run by run:

  pyzap    pyzap lock REQS -i URL --python PY -o pylock.toml
           (resolution, metadata, and the download + sha256 of every chosen
           file: `pyzap lock` downloads what it locks)
  pip      pip download -d DIR --index-url URL REQS
           (resolution and download; pip is the bench venv's, run by PY)
  uv       uv pip compile - --index-url URL --python PY -o requirements.txt,
           then uv pip install --target DIR --no-deps -r requirements.txt
           (uv has no `download`: resolution, download, unpacking into uv's
           cache and linking into DIR)
  uv-compile  the first uv step alone (resolution and metadata; reference)

Every output directory is fresh per run; only the cache carries over to a
warm run. Prints a markdown table (median, min-max, ratio to pyzap) and the
resolved set of each tool. Not a test: see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from pyzapbench.index import LocalIndex, index_binary, normalize, parse_filename  # noqa: E402
from pyzapbench.measure import Stat, run  # noqa: E402
from pyzapbench.runner import make_base_env  # noqa: E402

REQS = ["flask", "gunicorn", "black", "requests"]


def commands(tool: str, url: str, py: Path, pyzap: Path, out: Path) -> list[list]:
    """The steps one timed run of `tool` executes, in order, in a fresh `out`."""
    venv_bin = BENCH / ".venv" / "bin"
    if tool == "pyzap":
        return [[pyzap, "lock", *REQS, "-i", url, "--python", py, "-o", out / "pylock.toml"]]
    if tool == "pip":
        return [[py, "-m", "pip", "download", "-q", "-d", out / "dl", "--index-url", url, *REQS]]
    compile_step = [venv_bin / "uv", "pip", "compile", "-q", out / "requirements.in", "--index-url", url,
                    "--python", py, "-o", out / "requirements.txt"]
    if tool == "uv-compile":
        return [compile_step]
    return [compile_step, [venv_bin / "uv", "pip", "install", "-q", "--target", out / "target", "--no-deps",
                           "--index-url", url, "--python", py, "-r", out / "requirements.txt"]]


def resolved_set(tool: str, out: Path) -> list[str]:
    """name==version of what the run resolved, read from its output."""
    if tool == "pyzap":
        text = (out / "pylock.toml").read_text()
        pairs = re.findall(r'^name = "([^"]+)"\nversion = "([^"]+)"', text, re.M)
        return sorted(f"{normalize(n)}=={v}" for n, v in pairs)
    if tool == "pip":
        return sorted(f"{normalize(p[0])}=={p[1]}" for f in os.listdir(out / "dl") if (p := parse_filename(f)))
    lines = (out / "requirements.txt").read_text().splitlines()
    return sorted(normalize(l.split("==")[0]) + "==" + l.split("==")[1].strip() for l in lines if "==" in l and not l.startswith("#"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="timed runs per tool, cache state and index variant")
    ap.add_argument("--pyzap", type=Path, default=REPO / "target" / "release" / "pyzap")
    ap.add_argument("--wheelhouse", type=Path, default=REPO.parent / "shared" / "wheelhouse")
    ap.add_argument("--variants", default="json,html", help="index variants: json,html")
    ap.add_argument("--dont-write-bytecode", action="store_true", help="run every tool with PYTHONDONTWRITEBYTECODE=1")
    args = ap.parse_args()

    py = BENCH / ".venv" / "bin" / "python"
    if not (BENCH / ".venv" / "bin" / "uv").exists():
        sys.exit("bench/.venv is missing: run `python3 bench/run.py --quick` once to create it (pinned uv and pip)")
    if not args.pyzap.exists():
        sys.exit(f"{args.pyzap} is missing: cargo build --release")
    tools = ["pyzap", "pip", "uv", "uv-compile"]
    server = index_binary()
    work = Path(tempfile.mkdtemp(prefix="pyzap-resolve-bench-"))
    env = make_base_env(BENCH / ".venv" / "bin", work)
    if args.dont_write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    results: dict = {}
    sets: dict = {}
    try:
        for variant in args.variants.split(","):
            with LocalIndex(args.wheelhouse, pages=variant, metadata_files=True, ranges=True, binary=server) as index:
                for i in range(args.runs):
                    for state in ("cold", "warm"):
                        for tool in tools:  # alternating: each tool once per round and state
                            cache = work / "cache" / variant / tool
                            if state == "cold":
                                shutil.rmtree(cache, ignore_errors=True)
                            out = work / "out"
                            shutil.rmtree(out, ignore_errors=True)
                            out.mkdir(parents=True)
                            (out / "requirements.in").write_text("\n".join(REQS) + "\n")
                            run_env = dict(env, PIP_CACHE_DIR=str(cache / "pip"), UV_CACHE_DIR=str(cache / "uv"),
                                           PYZAP_CACHE_DIR=str(cache / "pyzap"), XDG_CACHE_HOME=str(cache / "xdg"))
                            total = 0.0
                            for argv in commands(tool, index.url, py, args.pyzap, out):
                                r = run(argv, env=run_env, cwd=out, timeout=600)
                                if not r.ok:
                                    sys.exit(f"{tool} failed ({variant}, {state}): {' '.join(map(str, argv))}\n{r.stderr}{r.stdout}")
                                total += r.seconds
                            results.setdefault((variant, state, tool), Stat()).add(total)
                            sets.setdefault(tool, resolved_set(tool, out))
                            print(f"{variant} {state} {tool}: {total:.3f} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    bytecode = "PYTHONDONTWRITEBYTECODE=1" if args.dont_write_bytecode else "PYTHONDONTWRITEBYTECODE unset"
    print(f"\nResolve + download `{' '.join(REQS)}` from a local index ({args.runs} runs each, {bytecode}; "
          f"seconds, median (min-max); ratio = tool median / pyzap median)\n")
    print("| index | cache | " + " | ".join(tools) + " |")
    print("|---|---|" + "---|" * len(tools))
    for variant in args.variants.split(","):
        for state in ("cold", "warm"):
            base = results[(variant, state, "pyzap")].median
            cells = []
            for tool in tools:
                s = results[(variant, state, tool)]
                ratio = "" if tool == "pyzap" else f" ×{s.median / base:.2f}"
                cells.append(f"{s.median:.3f} ({s.min:.3f}–{s.max:.3f}){ratio}")
            print(f"| {variant} | {state} | " + " | ".join(cells) + " |")
    print("\nResolved sets:")
    for tool in ("pyzap", "pip", "uv"):
        print(f"- {tool} ({len(sets[tool])}): {' '.join(sets[tool])}")
    if len({tuple(sets[t]) for t in ("pyzap", "pip", "uv")}) != 1:
        print("  (the sets differ: see above)")


if __name__ == "__main__":
    main()
