#!/usr/bin/env python3
"""Resolve-and-download benchmark: pyzap vs pip vs uv on a local index.

    cargo build --release && bench/.venv/bin/python bench/resolve.py [--runs 5]

Serves ../shared/wheelhouse on 127.0.0.1 as a PEP 691 (JSON) and a PEP 503
(HTML) simple index, both with PEP 658 metadata files and single-range
requests, and times, per index variant, with empty caches (cold) and with the
cache the tool's previous run filled (warm), tools alternating run by run:

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
import hashlib
import http.server
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import urllib.parse
import zipfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from pyzapbench.index import Wheelhouse, normalize, parse_filename  # noqa: E402
from pyzapbench.measure import Stat, run  # noqa: E402
from pyzapbench.runner import make_base_env  # noqa: E402

REQS = ["flask", "gunicorn", "black", "requests"]
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class Index:
    """The wheelhouse as a simple index; `json` decides what project pages are."""

    def __init__(self, house: Wheelhouse, json_pages: bool):
        self.house = house
        self.json_pages = json_pages
        self.metadata: dict[str, bytes] = {}
        for files in house.projects.values():
            for f in files:
                if f["kind"] == "wheel":
                    with zipfile.ZipFile(house.root / f["filename"]) as zf:
                        name = next(n for n in zf.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
                        self.metadata[f["filename"]] = zf.read(name)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/simple/"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def project(self, name: str) -> tuple[bytes, str] | None:
        files = self.house.projects.get(name)
        if files is None:
            return None
        meta = {f: hashlib.sha256(self.metadata[f]).hexdigest() for f in (x["filename"] for x in files) if f in self.metadata}
        if self.json_pages:
            body = {
                "meta": {"api-version": "1.1"},
                "name": name,
                "versions": sorted({f["version"] for f in files}),
                "files": [
                    {
                        "filename": f["filename"],
                        "url": f"../../files/{urllib.parse.quote(f['filename'])}",
                        "hashes": {"sha256": f["sha256"]},
                        "requires-python": f["requires_python"],
                        "size": (self.house.root / f["filename"]).stat().st_size,
                        "yanked": False,
                        **({"core-metadata": {"sha256": meta[f["filename"]]}} if f["filename"] in meta else {}),
                    }
                    for f in files
                ],
            }
            return json.dumps(body).encode(), JSON_TYPE
        rows = []
        for f in files:
            attrs = ""
            if f["requires_python"]:
                attrs += f' data-requires-python="{f["requires_python"].replace(">", "&gt;").replace("<", "&lt;")}"'
            if f["filename"] in meta:
                attrs += f' data-core-metadata="sha256={meta[f["filename"]]}"'
            href = f"../../files/{urllib.parse.quote(f['filename'])}#sha256={f['sha256']}"
            rows.append(f'<a href="{href}"{attrs}>{f["filename"]}</a><br/>')
        page = f"<!DOCTYPE html>\n<html><body><h1>Links for {name}</h1>\n" + "\n".join(rows) + "\n</body></html>\n"
        return page.encode(), "application/vnd.pypi.simple.v1+html"

    def _handler(self):
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send(self, code, body, ctype, head=False, extra=()):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in extra:
                    self.send_header(k, v)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def serve(self, head):
                path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
                if path in ("/simple", "/simple/"):
                    links = "".join(f'<a href="{p}/">{p}</a>\n' for p in sorted(index.house.projects))
                    return self.send(200, links.encode(), "text/html", head)
                m = re.fullmatch(r"/simple/([^/]+)/?", path)
                if m:
                    name = normalize(m.group(1))
                    if name != m.group(1):
                        return self.send(301, b"", "text/plain", head, [("Location", f"/simple/{name}/")])
                    page = index.project(name)
                    if page:
                        return self.send(200, page[0], page[1], head)
                m = re.fullmatch(r"/files/([^/]+?)(\.metadata)?", path)
                if m and parse_filename(m.group(1)):
                    if m.group(2):
                        data = index.metadata.get(m.group(1))
                        if data is not None:
                            return self.send(200, data, "text/plain", head)
                    elif (index.house.root / m.group(1)).is_file():
                        data = (index.house.root / m.group(1)).read_bytes()
                        rng = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
                        if rng and (rng.group(1) or rng.group(2)):
                            start = int(rng.group(1)) if rng.group(1) else max(0, len(data) - int(rng.group(2)))
                            end = int(rng.group(2)) if rng.group(1) and rng.group(2) else len(data) - 1
                            end = min(end, len(data) - 1)
                            return self.send(206, data[start : end + 1], "application/octet-stream", head,
                                             [("Content-Range", f"bytes {start}-{end}/{len(data)}"), ("Accept-Ranges", "bytes")])
                        return self.send(200, data, "application/octet-stream", head, [("Accept-Ranges", "bytes")])
                return self.send(404, b"not found\n", "text/plain", head)

            def do_GET(self):
                self.serve(False)

            def do_HEAD(self):
                self.serve(True)

        return Handler


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
    house = Wheelhouse(args.wheelhouse)
    work = Path(tempfile.mkdtemp(prefix="pyzap-resolve-bench-"))
    env = make_base_env(BENCH / ".venv" / "bin", work)
    if args.dont_write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    results: dict = {}
    sets: dict = {}
    try:
        for variant in args.variants.split(","):
            index = Index(house, json_pages=(variant == "json"))
            try:
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
                index.close()
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
