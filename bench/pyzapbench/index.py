"""A PEP 503 simple index over a local wheelhouse, served on 127.0.0.1.

The pages are generated in memory from the files in the wheelhouse
(normalized project names, ``#sha256=`` fragments, ``data-requires-python``
from the wheels' metadata), and a ``ThreadingHTTPServer`` serves them from a
background thread.  Nothing here touches the network beyond the loopback.
"""

from __future__ import annotations

import email.parser
import hashlib
import html
import http.server
import os
import re
import sys
import tarfile
import threading
import urllib.parse
import zipfile
from pathlib import Path

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


def _requires_python(path: Path, kind: str):
    """The Requires-Python of a distribution, read from its metadata."""
    try:
        if kind == "wheel":
            with zipfile.ZipFile(path) as zf:
                meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
                text = zf.read(meta).decode("utf-8", "replace")
        else:
            with tarfile.open(path) as tf:
                member = next(m for m in tf.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"))
                text = tf.extractfile(member).read().decode("utf-8", "replace")
    except (StopIteration, OSError, zipfile.BadZipFile, tarfile.TarError):
        return None
    msg = email.parser.Parser().parsestr(text, headersonly=True)
    return msg.get("Requires-Python")


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
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            self.projects.setdefault(normalize(project), []).append(
                {
                    "filename": path.name,
                    "version": version,
                    "kind": kind,
                    "sha256": digest,
                    "requires_python": _requires_python(path, kind),
                }
            )

    def root_page(self) -> bytes:
        links = "\n".join(f'<a href="{p}/">{p}</a><br/>' for p in sorted(self.projects))
        return f"<!DOCTYPE html>\n<html><head><title>Simple index</title></head><body>\n{links}\n</body></html>\n".encode()

    def project_page(self, project: str) -> bytes | None:
        files = self.projects.get(project)
        if files is None:
            return None
        rows = []
        for f in files:
            href = f"../../files/{urllib.parse.quote(f['filename'])}#sha256={f['sha256']}"
            rp = f['requires_python']
            attr = f' data-requires-python="{html.escape(rp, quote=True)}"' if rp else ""
            rows.append(f'<a href="{href}"{attr}>{html.escape(f["filename"])}</a><br/>')
        body = "\n".join(rows)
        return (
            f"<!DOCTYPE html>\n<html><head><title>Links for {project}</title></head><body>\n"
            f"<h1>Links for {project}</h1>\n{body}\n</body></html>\n"
        ).encode()


class _QuietServer(http.server.ThreadingHTTPServer):
    """A client that hangs up early (a tool that read the bytes it wanted of
    a wheel, then closed the connection) is normal, not worth a traceback."""

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class LocalIndex:
    """Context manager: serves a wheelhouse as ``http://127.0.0.1:PORT/simple/``."""

    def __init__(self, wheelhouse: Path):
        self.house = Wheelhouse(wheelhouse)
        self.server = None
        self.thread = None
        self.requests = 0

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/simple/"

    def _handler(self):
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _send(self, code, body, ctype, head_only=False):
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head_only:
                    self.wfile.write(body)

            def _serve(self, head_only):
                index.requests += 1
                path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
                if path in ("/simple", "/simple/"):
                    return self._send(200, index.house.root_page(), "text/html", head_only)
                m = re.fullmatch(r"/simple/([^/]+)/?", path)
                if m:
                    name = normalize(m.group(1))
                    if name != m.group(1):  # PEP 503: redirect to the normalized name
                        self.send_response(301)
                        self.send_header("Location", f"/simple/{name}/")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return None
                    page = index.house.project_page(name)
                    if page is not None:
                        return self._send(200, page, "text/html", head_only)
                m = re.fullmatch(r"/files/([^/]+)", path)
                if m and parse_filename(m.group(1)):
                    f = index.house.root / m.group(1)
                    if f.is_file():
                        return self._send(200, f.read_bytes(), "application/octet-stream", head_only)
                return self._send(404, b"not found\n", "text/plain", head_only)

            def do_GET(self):
                self._serve(False)

            def do_HEAD(self):
                self._serve(True)

        return Handler

    def __enter__(self):
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="local-index", daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        return False


if __name__ == "__main__":  # python -m pyzapbench.index WHEELHOUSE: serve until Ctrl-C
    import time

    with LocalIndex(Path(sys.argv[1] if len(sys.argv) > 1 else os.getcwd())) as idx:
        print(idx.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
