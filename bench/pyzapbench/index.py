"""The local package index every tool resolves from, and wheelhouse helpers.

The index is the one the Rust tests use: test-support's ``pyzap-test-index``
binary (``crates/pyzap-test-support/src/bin/pyzap-test-index.rs``), run as a
child process that serves the wheelhouse on 127.0.0.1 (normalized project
names, ``#sha256=`` digests, ``Requires-Python`` from each file's metadata)
until its stdin closes. Nothing here touches the network beyond the loopback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BINARY = "pyzap-test-index"
_NORMALIZE = re.compile(r"[-_.]+")


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return _NORMALIZE.sub("-", name).lower()


def parse_filename(filename: str):
    """(project, version, kind) of a wheel or sdist file name, or None."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        if len(parts) not in (5, 6):
            return None
        return parts[0], parts[1], "wheel"
    for ext in (".tar.gz", ".zip"):
        if filename.endswith(ext):
            stem = filename[: -len(ext)]
            name, sep, version = stem.rpartition("-")
            if not sep:
                return None
            return name, version, "sdist"
    return None


def wheel_tags(filename: str):
    """Set of (python, abi, platform) tags of a wheel file name."""
    parts = filename[:-4].split("-")
    py, abi, plat = parts[-3:]
    return {(p, a, pl) for p in py.split(".") for a in abi.split(".") for pl in plat.split(".")}


class Wheelhouse:
    """The distributions in a folder, grouped by normalized project name."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.projects: dict[str, list[dict]] = {}
        for path in sorted(self.root.iterdir()):
            parsed = parse_filename(path.name)
            if not parsed or not path.is_file():
                continue
            project, version, kind = parsed
            self.projects.setdefault(normalize(project), []).append(
                {"filename": path.name, "version": version, "kind": kind}
            )


def index_binary(cargo: bool = True) -> Path:
    """The ``pyzap-test-index`` binary: built with cargo first (untimed; a
    no-op when it is up to date) unless ``cargo`` is false, else the newest
    one already in the target directory."""
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
    if cargo and shutil.which("cargo"):
        r = subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "pyzap-test-support", "--bin", BINARY],
                           cwd=REPO)
        if r.returncode != 0:
            print(f"cargo build of {BINARY} failed: using one already built, if any", file=sys.stderr)
    found = [p for p in (target / "release" / BINARY, target / "debug" / BINARY) if p.is_file()]
    if not found:
        raise SystemExit(f"no {BINARY} in {target}: cargo build --release -p pyzap-test-support --bin {BINARY}")
    return max(found, key=lambda p: p.stat().st_mtime)


class LocalIndex:
    """Context manager: serves a wheelhouse as ``http://127.0.0.1:PORT/simple/``.

    ``pages`` is ``"html"`` (PEP 503) or ``"json"`` (PEP 691); without
    ``metadata_files`` no PEP 658 metadata is announced or served, without
    ``ranges`` a ``Range`` header is ignored (whole files, no
    ``Accept-Ranges``). Pages carry no ``ETag``, so a warm cache refetches
    them rather than revalidating (what the figures have always measured).
    After the block, ``requests`` is how many requests the server answered.
    """

    def __init__(self, wheelhouse: Path, *, pages: str = "html", metadata_files: bool = False,
                 ranges: bool = False, binary: Path | None = None):
        self.argv = [str(binary or index_binary()), str(wheelhouse), "--format", pages, "--no-etags"]
        if not metadata_files:
            self.argv.append("--no-metadata-files")
        if not ranges:
            self.argv.append("--no-ranges")
        self.proc = None
        self.url = None
        self.requests = None

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"{self.argv[0]} did not start (said {self.url!r})")
        return self

    def __exit__(self, *exc):
        try:  # communicate() closes the server's stdin: its signal to stop
            rest = self.proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rest = self.proc.communicate()[0]
        m = re.search(r"^requests (\d+)$", rest or "", re.M)
        self.requests = int(m.group(1)) if m else None
        return False

