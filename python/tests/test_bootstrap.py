"""Tests of the pyzap bootstrap (python/bootstrap/__main__.py) and pyzap_runtime.

Stdlib only, so it runs under every supported interpreter (3.8-3.13):

    python -m unittest discover -s python/tests -v

Each test builds fake artifacts with zipfile, laid out as
docs/artifact-format.md says (shebang, explicit directory entries, boot file,
manifest, zipped and extracted site dirs), and runs them with
sys.executable in subprocesses with a private PYZAP_ROOT.
"""

import hashlib
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
BOOTSTRAP = os.path.join(HERE, os.pardir, "bootstrap", "__main__.py")
RUNTIME = os.path.join(HERE, os.pardir, "pyzap_runtime", "__init__.py")
VERSION = "%d.%d" % sys.version_info[:2]
TIMEOUT = 120


def _read(path):
    with open(path, "rb") as f:
        return f.read()


APP_CLI = '''
import json, os, sys

def probe():
    import __main__
    import pyzap_runtime, extpkg, nsp.zpart, nsp.epart, zextramod, edirmod
    out = {
        "argv": sys.argv,
        "path": sys.path,
        "executable": sys.executable,
        "prefix": sys.prefix,
        "PATH": os.environ.get("PATH", ""),
        "env": {k: v for k, v in os.environ.items()
                if k.startswith("PYZAP_") or k in ("PYTHONPATH", "ZPTH_RAN", "EPTH_RAN")},
        "main_name": __main__.__name__,
        "main_globals": sorted(k for k in vars(__main__) if not k.startswith("__")),
        "ext_data": extpkg.data(),
        "ext_file": extpkg.__file__,
        "tool_mode": os.stat(os.path.join(os.path.dirname(extpkg.__file__), "tool.sh")).st_mode & 0o777,
        "nsp": [nsp.zpart.WHERE, nsp.epart.WHERE],
        "runtime": {
            "artifact": pyzap_runtime.artifact,
            "site_dirs": pyzap_runtime.site_dirs,
            "extracted_dir": pyzap_runtime.extracted_dir,
            "venv_dir": pyzap_runtime.venv_dir,
            "cache_root": pyzap_runtime.cache_root(),
            "manifest_format": pyzap_runtime.manifest()["format"],
            "entry_point": pyzap_runtime.entry_point,
        },
    }
    try:
        import leaky
        out["leaky"] = leaky.__file__
    except ImportError:
        out["leaky"] = None
    out["early_imported"] = "leaky_early" in sys.modules
    try:
        import phantom
        out["phantom"] = True
    except ImportError:
        out["phantom"] = False
    import shadow
    out["shadow"] = shadow.WHERE
    try:
        import callermod
        out["callermod"] = True
    except ImportError:
        out["callermod"] = False
    return out

def work(x):
    import extpkg, nsp.epart
    return [x * 2, extpkg.data(), nsp.epart.WHERE]

def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else "probe"
    if cmd == "probe":
        print(json.dumps(probe()))
    elif cmd == "exit":
        return int(sys.argv[2])
    elif cmd == "raise":
        raise ValueError("boom from the app")
    elif cmd == "interrupt":
        raise KeyboardInterrupt
    elif cmd == "kill":
        import signal, time
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
    elif cmd == "child":
        import subprocess
        code = "import app.cli, extpkg, nsp.zpart, nsp.epart, json; print(json.dumps(extpkg.data()))"
        return subprocess.call([sys.executable, "-c", code])
    elif cmd == "other-python":
        # Another interpreter started by the app, with the app's environment.
        import subprocess
        return subprocess.call([sys.argv[2], "-c", "import extpkg"])
    elif cmd == "on-path":
        # The bundle's console scripts are on PATH, as in an activated venv.
        import subprocess
        return subprocess.call(["appcli", "where"])
    elif cmd == "rerun":
        # A server that re-executes itself (gunicorn USR2, a reloader).
        import subprocess
        return subprocess.call([sys.executable] + [sys.argv[0], "probe"])
    elif cmd == "mp":
        import multiprocessing
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            print(json.dumps(pool.map(work, [1, 2])))
    elif cmd == "quiet":
        pass
    elif cmd == "modules":
        print(json.dumps(sorted(m for m in ("zipfile", "bz2", "lzma") if m in sys.modules)))
    elif cmd == "where":
        import extpkg, pyzap_runtime
        print(json.dumps({"ext_data": extpkg.data(), "executable": sys.executable,
                          "venv_dir": pyzap_runtime.venv_dir}))

def other():
    print("other called")
    return 7
'''

APP_MAIN = '''
import json, sys
import __main__
from app.cli import probe
out = probe()
out["self_is_main"] = sys.modules["__main__"] is __main__ and __name__ == "__main__"
out["file"] = __file__
print(json.dumps(out))
'''

MP_MAIN = '''
import json, multiprocessing, sys

def double(x):
    return x * 2

if __name__ == "__main__":
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        print(json.dumps(pool.map(double, [1, 2, 3])))
'''

SCRIPT_MAIN = '''
import json, sys
import srcmod
from app.cli import probe
if len(sys.argv) > 1 and sys.argv[1] == "fail":
    raise RuntimeError("failing in the script")
if len(sys.argv) > 1 and sys.argv[1] == "traceback":
    import traceback
    try:
        raise RuntimeError("traceback in the script")
    except RuntimeError:
        print(traceback.format_exc())
    sys.exit(0)
out = probe()
out["srcmod"] = srcmod.VALUE
out["file"] = __file__
out["name"] = __name__
print(json.dumps(out))
'''

EXTPKG = '''
import os
def data():
    with open(os.path.join(os.path.dirname(__file__), "data.txt")) as f:
        return f.read().strip()
'''


def base_files(main=None):
    """The files of the standard fake bundle, by path in the zip."""
    files = {
        "__main__.py": _read(BOOTSTRAP),
        "__pyzap__/manifest.json": json.dumps({"format": 1, "pth": []}).encode(),
        "site-packages/pyzap_runtime/__init__.py": _read(RUNTIME),
        "site-packages/app/__init__.py": b"",
        "site-packages/app/cli.py": APP_CLI.encode(),
        "site-packages/app/__main__.py": APP_MAIN.encode(),
        "site-packages/app/mpmain.py": MP_MAIN.encode(),
        "site-packages/app/broken.py": b"import does_not_exist_anywhere_xyz\ndef main(): pass\n",
        "site-packages/quiet.py": b"def main():\n    pass\n",
        # A namespace package split between the zip and the extracted dir.
        "site-packages/nsp/zpart.py": b"WHERE = 'zip'\n",
        "__pyzap__/extract/nsp/epart.py": b"WHERE = 'extract'\n",
        # .pth files in both site dirs: a path line and an import line each.
        "site-packages/zpth.pth": b"# comment\n\nzextra\nimport os; os.environ['ZPTH_RAN'] = '1'\n",
        "site-packages/zextra/zextramod.py": b"",
        "__pyzap__/extract/epth.pth": b"edir\nmissing_dir_is_skipped\nimport os; os.environ['EPTH_RAN'] = '1'\n",
        "__pyzap__/extract/edir/edirmod.py": b"",
        # Package data read through __file__, and an executable helper.
        "__pyzap__/extract/extpkg/__init__.py": EXTPKG.encode(),
        "__pyzap__/extract/extpkg/data.txt": b"hello from data\n",
        "__pyzap__/extract/extpkg/tool.sh": (0o755, b"#!/bin/sh\necho tool\n"),
        # Scripts wheels ship in .data/scripts/: a Python one and a program.
        "__pyzap__/extract/.pyzap-bin/datatool": (
            0o755, b"#!python\nimport sys, extpkg\nprint('datatool', extpkg.data(), sys.argv[1:])\n"),
        "__pyzap__/extract/.pyzap-bin/shtool": (0o755, b"#!/bin/sh\necho shtool \"$@\"\n"),
        # A distribution's console scripts, for the venv's bin/.
        "__pyzap__/extract/app-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: app\nVersion: 1.0\n",
        "__pyzap__/extract/app-1.0.dist-info/entry_points.txt":
            b"[console_scripts]\nappcli = app.cli:main\nbad/name = app.cli:main\n"
            b"appother = app.cli : other [extra]\n\n[other.group]\nnot-a-script = app.cli:main\n",
        "srcmod.py": b"VALUE = 42\n",
        "site-packages/shadow.py": b"WHERE = 'bundle'\n",
    }
    if main is not None:
        files["__pyzap__/main.py"] = main.encode()
    return files


def base_boot(**overrides):
    boot = {
        "format": "1",
        "entry_kind": "function",
        "entry_module": "app.cli",
        "entry_function": "main",
        "entry_name": "app",
        "python": VERSION,
        "cache_tag": sys.implementation.cache_tag,
        "native": "0",
        "site_zip": "site-packages",
        "extract_hash": None,  # computed from the extract files
        "src": "0",
        "pth": ["zip:zpth.pth", "extract:epth.pth"],
    }
    boot.update(overrides)
    return boot


def _tree_of(name):
    """The extracted tree `name` is in (`__pyzap__/extract/`, or a target's), else None."""
    if name.startswith("__pyzap__/extract/"):
        return "__pyzap__/extract/"
    parts = name.split("/")
    if name.startswith("__pyzap__/targets/") and len(parts) > 4 and parts[3] == "extract":
        return "/".join(parts[:4]) + "/"
    return None


def _write_zip(f, files, compress=zipfile.ZIP_DEFLATED):
    names = set(files)
    dirs = {name.rsplit("/", i)[0] + "/" for name in names for i in range(1, name.count("/") + 1)}
    with zipfile.ZipFile(f, "w", compress) as zf:
        for name in sorted(names | dirs):
            info = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            if name in dirs:
                info.external_attr = (0o40755 << 16) | 0x10
                zf.writestr(info, b"")
                continue
            data = files[name]
            mode = 0o644
            if isinstance(data, tuple):
                mode, data = data
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3
            info.compress_type = zipfile.ZIP_STORED if isinstance(data, _Nested) else compress
            zf.writestr(info, data)


def tree_digest(files):
    """The tree digest of docs/artifact-format.md, written independently of
    the bootstrap's: sha256 over sorted "<name>\t<crc32>\t<size>\n" lines."""
    import zlib

    lines = []
    for name in sorted(files):
        data = files[name]
        data = data[1] if isinstance(data, tuple) else data
        lines.append("%s\t%08x\t%d\n" % (name, zlib.crc32(data) & 0xFFFFFFFF, len(data)))
    return hashlib.sha256("".join(lines).encode()).hexdigest()


class _Nested(bytes):
    """A nested archive's bytes: stored in the outer zip, as the writer does."""


def build(path, boot, files, layout="nested"):
    """Write a fake artifact the way the Rust writer lays it out.

    layout "nested": each extracted tree is one stored `<tree>.zip` (what
    the writer makes); "flat": its files are entries of the outer zip (an
    artifact repacked from `pyzap extract`); "deflated": nested, but the
    inner archive recompressed."""
    if boot.get("extract_hash") is None:
        h = hashlib.sha256()
        for name in sorted(files):
            if name.startswith("__pyzap__/extract/"):
                data = files[name]
                h.update(name.encode() + b"\0" + (data[1] if isinstance(data, tuple) else data))
        boot = dict(boot, extract_hash=h.hexdigest()[:32])
    trees = {}
    for name in files:
        tree = _tree_of(name)
        if tree:
            trees.setdefault(tree, {})[name[len(tree):]] = files[name]
    if "extract_digest" not in boot and boot.get("extract_hash"):
        boot = dict(boot, extract_digest=tree_digest(trees.get("__pyzap__/extract/", {})))
    if "target_digest" not in boot and boot.get("target"):
        boot = dict(boot, target_digest=[
            "%s %s" % (line.split(" ")[0], tree_digest(
                trees.get("__pyzap__/targets/%s/extract/" % line.split(" ")[0], {})))
            for line in boot["target"]])
    lines = []
    for key, value in boot.items():
        for v in value if isinstance(value, list) else [value]:
            lines.append("%s=%s\n" % (key, v))
    files = dict(files)
    files["__pyzap__/boot"] = "".join(lines).encode()
    if layout != "flat":
        trees = {}
        for name in list(files):
            tree = _tree_of(name)
            if tree:
                trees.setdefault(tree, {})[name[len(tree):]] = files.pop(name)
        for tree, members in trees.items():
            buf = io.BytesIO()
            _write_zip(buf, members)
            data = buf.getvalue()
            files[tree.rstrip("/") + ".zip"] = data if layout == "deflated" else _Nested(data)
    with open(path, "wb") as f:
        f.write(b"#!/usr/bin/env python3\n")
        _write_zip(f, files)
    os.chmod(path, 0o755)
    return boot


def _listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []


with open("/proc/sys/kernel/random/boot_id") as _f:
    BOOT_ID = _f.read().strip()


class BootstrapTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pyzap-test-")
        self.addCleanup(self._cleanup)
        self.root = os.path.join(self.tmp, "cache")
        self.art = os.path.join(self.tmp, "app.pyz")
        self.boot = build(self.art, base_boot(), base_files())

    def _cleanup(self):
        for dirpath, dirnames, _ in os.walk(self.tmp):
            for d in dirnames:  # undo chmods so rmtree works
                try:
                    os.chmod(os.path.join(dirpath, d), 0o700)
                except OSError:
                    pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("PYZAP_") and k not in ("PYTHONPATH", "PYTHONUSERBASE",
                                                             "PYTHONSTARTUP", "PYTHONSAFEPATH")}
        env["PYZAP_ROOT"] = self.root
        env.update(extra)
        return {k: v for k, v in env.items() if v is not None}

    def run_art(self, *args, art=None, env=None, python_args=(), input=None, cwd=None,
                settle=True):
        proc = subprocess.run(
            [sys.executable] + list(python_args) + [art or self.art] + list(args),
            env=env or self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, timeout=TIMEOUT, input=input, cwd=cwd)
        if settle:
            self.settled()
        return proc

    def settled(self, root=None):
        """Wait until the background flush of the runs so far has given the
        markers of this boot under `root` their final names (protocol step
        6), so that a test sees the same files every time."""
        root = root or self.root
        suffix = "." + BOOT_ID
        deadline = time.time() + TIMEOUT
        while True:
            waiting = [os.path.join(kind, tree, name)
                       for kind in ("site", "venv")
                       for tree in _listdir(os.path.join(root, kind))
                       for name in _listdir(os.path.join(root, kind, tree))
                       if name.startswith(".pyzap-") and name.endswith(suffix)]
            if not waiting:
                return
            if time.time() > deadline:
                self.fail("markers never flushed: %s" % waiting)
            time.sleep(0.01)

    def ok(self, proc):
        self.assertEqual(proc.returncode, 0, "stdout:\n%s\nstderr:\n%s" % (proc.stdout, proc.stderr))
        return proc

    def probe(self, *args, **kwargs):
        proc = self.ok(self.run_art(*args, **kwargs))
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def assertOneLineError(self, proc, *needles):
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertTrue(lines[0].startswith("pyzap: error: "), proc.stderr)
        for needle in needles:
            self.assertIn(needle, lines[0])

    def extracted(self):
        return os.path.join(self.root, "site", self.boot["extract_hash"])


class EntryPoints(BootstrapTestCase):
    def test_function_entry_layout(self):
        out = self.probe("probe")
        ext = self.extracted()
        site = os.path.join(self.art, "site-packages")
        venv = out["runtime"]["venv_dir"]
        self.assertEqual(os.path.dirname(venv), os.path.join(self.root, "venv"))
        venv_site = os.path.join(venv, "lib", "python%d.%d" % sys.version_info[:2], "site-packages")
        self.assertEqual(out["argv"], [self.art, "probe"])
        # After the interpreter's own entries, as site-packages in a venv:
        # the venv's site dir, the extracted site and its .pth path lines,
        # the zipped site, then the zipped site's .pth path lines.
        site_dirs = [venv_site, ext, os.path.join(ext, "edir"), site, os.path.join(site, "zextra")]
        self.assertEqual(out["path"][-5:], site_dirs)
        self.assertNotIn(self.art, out["path"])  # src=0
        self.assertEqual(out["ext_data"], "hello from data")
        self.assertTrue(out["ext_file"].startswith(ext + os.sep))
        self.assertEqual(out["tool_mode"] & 0o111, 0o111)
        self.assertEqual(out["nsp"], ["zip", "extract"])
        env = out["env"]
        self.assertEqual(env["PYZAP_ARTIFACT"], self.art)
        self.assertEqual(env["PYZAP_SITE"], os.pathsep.join(site_dirs))
        self.assertNotIn("PYTHONPATH", env)  # nothing leaks into other interpreters
        self.assertEqual((env["ZPTH_RAN"], env["EPTH_RAN"]), ("1", "1"))
        self.assertNotIn(os.path.join(ext, "missing_dir_is_skipped"), out["path"])
        # Nothing of the interpreter's site-packages.
        for entry in out["path"]:
            self.assertFalse(entry.endswith(("site-packages", "dist-packages")) and
                             not entry.startswith((self.art, venv)), entry)
        # The process looks like it runs from the venv, whose bin/ leads PATH.
        self.assertEqual(out["executable"], os.path.join(venv, "bin", "python"))
        self.assertEqual(out["prefix"], venv)
        self.assertEqual(out["PATH"].split(os.pathsep)[0], os.path.join(venv, "bin"))
        with open(os.path.join(venv, "pyvenv.cfg")) as f:
            cfg = f.read()
        self.assertIn("home = %s\n" % os.path.dirname(os.path.realpath(sys.executable)), cfg)
        self.assertIn("include-system-site-packages = false\n", cfg)
        self.assertEqual(os.path.realpath(os.path.join(venv, "bin", "python")),
                         os.path.realpath(sys.executable))
        # Console scripts of the bundled distributions, and nothing else.
        self.assertEqual(sorted(os.listdir(os.path.join(venv, "bin"))),
                         sorted(["appcli", "appother", "datatool", "shtool", "python", "python3",
                                 "python%d.%d" % sys.version_info[:2]]))
        # .data/scripts: a #!python script runs the venv's python; a program
        # is a link into the unpacked tree.
        with open(os.path.join(venv, "bin", "datatool")) as f:
            self.assertEqual(f.readline(), "#!%s\n" % os.path.join(venv, "bin", "python"))
        self.assertEqual(os.readlink(os.path.join(venv, "bin", "shtool")),
                         os.path.join(ext, ".pyzap-bin", "shtool"))
        run = subprocess.run([os.path.join(venv, "bin", "datatool"), "x"], env=self.env(),
                             stdout=subprocess.PIPE, universal_newlines=True, timeout=TIMEOUT)
        self.assertEqual(run.stdout, "datatool hello from data ['x']\n")
        rt = out["runtime"]
        self.assertEqual(rt["artifact"], self.art)
        self.assertEqual(rt["site_dirs"], site_dirs)
        self.assertEqual(rt["extracted_dir"], ext)
        self.assertEqual(rt["cache_root"], self.root)
        self.assertEqual(rt["manifest_format"], 1)
        self.assertEqual(rt["entry_point"], "app.cli:main")
        self.assertTrue(os.path.exists(os.path.join(ext, ".pyzap-complete")))
        # Private, except as root ("Runtime cache protocol", step 3).
        self.assertEqual(stat.S_IMODE(os.stat(self.root).st_mode), 0o755 if os.geteuid() == 0 else 0o700)
        self.assertEqual(os.listdir(os.path.join(self.root, "tmp")), [])

    def test_extract_layouts(self):
        # The writer nests each extracted tree as a stored zip; an artifact
        # repacked from `pyzap extract` has the files as outer entries, and
        # one rezipped by hand may have the nested zip deflated.
        with zipfile.ZipFile(self.art) as zf:
            names = zf.namelist()
        self.assertIn("__pyzap__/extract.zip", names)
        self.assertFalse([n for n in names if n.startswith("__pyzap__/extract/")], names)
        for layout in ("nested", "flat", "deflated"):
            shutil.rmtree(self.root, ignore_errors=True)
            self.boot = build(self.art, base_boot(), base_files(), layout=layout)
            out = self.probe("probe")
            self.assertEqual(out["ext_data"], "hello from data", layout)
            self.assertEqual(out["tool_mode"] & 0o111, 0o111, layout)
            self.assertEqual(out["nsp"], ["zip", "extract"], layout)
            self.assertEqual(out["env"]["EPTH_RAN"], "1", layout)
            # A repacked (flat) tree is named by its content, not by boot.
            where = (os.path.join(self.root, "site", "flat" + self.boot["extract_digest"][:32])
                     if layout == "flat" else self.extracted())
            self.assertEqual(sorted(os.listdir(where)),
                             [".pyzap-bin", ".pyzap-complete", "app-1.0.dist-info", "edir", "epth.pth", "extpkg", "nsp"], layout)

    def test_first_run_reads_the_nested_tree_without_zipfile(self):
        # The writer's layout is read from its central directory by hand: a
        # first run does not pay for zipfile's imports (bz2, lzma, shutil...).
        # A tree repacked by hand still goes through zipfile.
        # -S: a .pth hook of the base installation may import zipfile itself.
        for layout, zipfile_loaded in (("nested", False), ("flat", True)):
            shutil.rmtree(self.root, ignore_errors=True)
            self.boot = build(self.art, base_boot(), base_files(), layout=layout)
            cold = self.ok(self.run_art("modules", python_args=["-S"]))
            loaded = json.loads(cold.stdout.strip().splitlines()[-1])
            self.assertEqual("zipfile" in loaded, zipfile_loaded, (layout, loaded))
            if not zipfile_loaded:
                self.assertEqual(loaded, [], layout)
            self.assertEqual(self.probe("probe")["ext_data"], "hello from data", layout)

    def test_missing_bytecode_is_compiled_on_extraction(self):
        # A bundle built for another Python version has no pycs for this
        # one: the first run compiles them into the cache (unchecked hash,
        # so no source stat), and warm starts load them, PYTHONDONTWRITEBYTECODE or not.
        files = base_files()
        tag = sys.implementation.cache_tag
        files["__pyzap__/extract/extpkg/broken.py"] = b"def (:\n"  # stays source only
        self.boot = build(self.art, base_boot(), files)
        self.ok(self.run_art("quiet", env=self.env(PYTHONDONTWRITEBYTECODE="1")))
        pyc = os.path.join(self.extracted(), "extpkg", "__pycache__", "__init__.%s.pyc" % tag)
        with open(pyc, "rb") as f:
            head = f.read(8)
        self.assertEqual(int.from_bytes(head[4:8], "little"), 0b01)  # hash-based, unchecked
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(pyc), "broken.%s.pyc" % tag)))
        before = sorted(os.listdir(os.path.dirname(pyc)))
        out = self.probe("probe", env=self.env(PYTHONDONTWRITEBYTECODE="1"))
        self.assertEqual(out["ext_data"], "hello from data")
        self.assertEqual(sorted(os.listdir(os.path.dirname(pyc))), before)
        # Built with --no-compile: the sources stay sources.
        shutil.rmtree(self.root)
        self.boot = build(self.art, base_boot(no_compile="1"), files)
        self.ok(self.run_art("quiet", env=self.env(PYTHONDONTWRITEBYTECODE="1")))
        self.assertFalse(os.path.exists(os.path.dirname(pyc)))

    def test_corrupt_nested_tree(self):
        # Damage the compressed bytes of one file inside the nested archive:
        # a one-line error, no partial tree left behind.
        with zipfile.ZipFile(self.art) as zf:
            outer = zf.getinfo("__pyzap__/extract.zip")
            inner = zipfile.ZipFile(io.BytesIO(zf.read(outer)))
        with open(self.art, "rb") as f:
            data = bytearray(f.read())

        def data_start(header_offset):
            n, m = (int.from_bytes(data[header_offset + i:header_offset + i + 2], "little") for i in (26, 28))
            return header_offset + 30 + n + m

        target = inner.getinfo("extpkg/__init__.py")
        at = data_start(data_start(outer.header_offset) + target.header_offset)
        data[at:at + target.compress_size] = bytes(b ^ 0x55 for b in data[at:at + target.compress_size])
        with open(self.art, "wb") as f:
            f.write(data)
        self.assertOneLineError(self.run_art("quiet"), "cannot read", self.art)
        self.assertEqual(os.listdir(os.path.join(self.root, "tmp")), [])
        self.assertFalse(os.path.exists(self.extracted()))

    def test_nested_tree_with_a_bad_local_header(self):
        # The central directory points at the nested archive, but what is
        # there is not a local file header: one line, nothing extracted.
        with zipfile.ZipFile(self.art) as zf:
            offset = zf.getinfo("__pyzap__/extract.zip").header_offset
        with open(self.art, "r+b") as f:
            f.seek(offset)
            f.write(b"XXXX")
        self.assertOneLineError(self.run_art("quiet"), "cannot read", "bad local header")
        self.assertFalse(os.path.exists(self.extracted()))

    def test_relative_artifact_path_and_warm_run(self):
        self.probe("probe")
        out = self.probe("probe", art="app.pyz", cwd=self.tmp)
        self.assertEqual(out["argv"][0], "app.pyz")  # as the user ran it
        self.assertEqual(out["env"]["PYZAP_ARTIFACT"], self.art)
        self.assertIn(os.path.join(self.art, "site-packages"), out["path"])
        self.assertEqual(os.listdir(os.path.join(self.root, "venv")),
                         [os.path.basename(out["runtime"]["venv_dir"])])

    def test_symlinked_artifact_is_not_resolved(self):
        link = os.path.join(self.tmp, "link.pyz")
        os.symlink(self.art, link)
        out = self.probe("probe", art=link)
        self.assertEqual(out["env"]["PYZAP_ARTIFACT"], link)

    def test_module_entry(self):
        build(self.art, base_boot(entry_kind="module", entry_module="app", entry_function=""),
              base_files())
        out = self.probe("x")
        self.assertEqual(out["argv"], [self.art, "x"])
        self.assertEqual(out["main_name"], "__main__")
        self.assertTrue(out["self_is_main"])
        self.assertEqual(out["main_globals"], ["json", "probe", "sys"])
        self.assertEqual(out["file"], os.path.join(self.art, "site-packages", "app", "__main__.py"))
        self.assertEqual(out["runtime"]["entry_point"], "app")

    def test_script_entry(self):
        build(self.art, base_boot(entry_kind="script", entry_module="", entry_function="", src="1"),
              base_files(main=SCRIPT_MAIN))
        out = self.probe("a")
        self.assertEqual(out["argv"], [self.art, "a"])
        self.assertEqual(out["srcmod"], 42)
        self.assertEqual(out["name"], "__main__")
        self.assertEqual(out["file"], os.path.join(self.art, "__pyzap__", "main.py"))
        self.assertEqual(out["main_globals"], ["json", "probe", "srcmod", "sys"])
        self.assertEqual(out["path"][-2:], [self.art, os.path.join(self.art, "site-packages", "zextra")])
        proc = self.run_art("fail")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("main.py", proc.stderr)
        self.assertIn("RuntimeError: failing in the script", proc.stderr)
        # Tracebacks formatted by the traceback module (and pdb) show the
        # script's source lines. (The interpreter's own printing of uncaught
        # exceptions shows no source for zipped code before 3.13.)
        proc = self.ok(self.run_art("traceback"))
        self.assertIn('raise RuntimeError("traceback in the script")', proc.stdout)

    def test_data_script_entry(self):
        # -c NAME for a script a wheel ships in .data/scripts/ (awscli's aws).
        boot = base_boot(entry_kind="data_script", entry_name="datatool", entry_module="",
                         entry_function="")
        build(self.art, boot, base_files())
        proc = self.ok(self.run_art("a", "b"))
        self.assertEqual(proc.stdout, "datatool hello from data ['a', 'b']\n")
        build(self.art, dict(boot, entry_name="shtool"), base_files())
        proc = self.ok(self.run_art("a", "b"))
        self.assertEqual(proc.stdout, "shtool a b\n")
        build(self.art, dict(boot, entry_name="missing"), base_files())
        self.assertOneLineError(self.run_art(), "script 'missing' not found")
        build(self.art, dict(boot, entry_name="../x"), base_files())
        self.assertOneLineError(self.run_art(), "bad entry point")

    def test_entry_point_override(self):
        env = self.env(PYZAP_ENTRY_POINT="app.cli:other")
        proc = self.run_art(env=env)
        self.assertEqual((proc.returncode, proc.stdout.strip()), (7, "other called"), proc.stderr)
        out = self.probe(env=self.env(PYZAP_ENTRY_POINT="app"))
        self.assertTrue(out["self_is_main"])
        self.assertEqual(out["runtime"]["entry_point"], "app")

    def test_multiprocessing_spawn_from_function_entry(self):
        proc = self.ok(self.run_art("mp"))
        self.assertEqual(json.loads(proc.stdout),
                         [[2, "hello from data", "extract"], [4, "hello from data", "extract"]])

    def test_multiprocessing_spawn_from_module_entry(self):
        proc = self.ok(self.run_art(env=self.env(PYZAP_ENTRY_POINT="app.mpmain")))
        self.assertEqual(json.loads(proc.stdout), [2, 4, 6])

    def test_child_process_imports_through_the_venv(self):
        caller = os.path.join(self.tmp, "caller")
        os.mkdir(caller)
        with open(os.path.join(caller, "callermod.py"), "w"):
            pass
        proc = self.ok(self.run_art("child", env=self.env(PYTHONPATH=caller)))
        self.assertEqual(json.loads(proc.stdout), "hello from data")
        out = self.probe("probe", env=self.env(PYTHONPATH=caller))
        self.assertTrue(out["callermod"])
        self.assertEqual(out["env"]["PYTHONPATH"], caller)  # the caller's, untouched
        # Running the artifact again with that environment, from the venv's
        # python, sets up the same path without duplicates.
        env = self.env(PYTHONPATH=caller, PATH=out["PATH"], PYZAP_SITE=out["env"]["PYZAP_SITE"])
        proc = self.ok(subprocess.run([out["executable"], self.art, "rerun"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      universal_newlines=True, timeout=TIMEOUT))
        nested = json.loads(proc.stdout)
        self.assertEqual(nested["path"][-5:], out["path"][-5:])
        self.assertEqual(len(nested["path"]), len(set(nested["path"])))
        self.assertEqual(nested["executable"], out["executable"])
        self.assertEqual(nested["PATH"], out["PATH"])  # bin/ not added twice

    def test_a_venv_marker_for_another_recipe_is_one_line(self):
        out = self.probe("probe")
        marker = os.path.join(out["runtime"]["venv_dir"], ".pyzap-venv")
        with open(marker, "ab") as f:
            f.write(b"edited\n")
        self.assertOneLineError(self.run_art("quiet"), "holds another bundle's environment",
                                out["runtime"]["venv_dir"])

    def test_other_interpreters_do_not_see_the_bundle(self):
        # The same interpreter binary started directly, not through the venv.
        proc = self.run_art("other-python", os.path.realpath(sys.executable))
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("No module named 'extpkg'", proc.stderr)

    def test_console_scripts_on_path(self):
        proc = self.ok(self.run_art("on-path"))
        out = json.loads(proc.stdout)
        self.assertEqual(out["ext_data"], "hello from data")
        self.assertEqual(out["executable"], os.path.join(out["venv_dir"], "bin", "python"))

    def test_long_venv_paths_get_a_shell_trampoline(self):
        root = os.path.join(self.tmp, "x" * 100, "cache")
        proc = self.ok(self.run_art("on-path", env=self.env(PYZAP_ROOT=root)))
        out = json.loads(proc.stdout)
        with open(os.path.join(out["venv_dir"], "bin", "appcli")) as f:
            self.assertEqual(f.readline(), "#!/bin/sh\n")


class Tools(BootstrapTestCase):
    def venv(self, dest, art=None):
        return self.run_art("venv", dest, art=art, env=self.env(PYZAP_TOOLS="1"))

    def test_venv_at_a_stable_path(self):
        dest = os.path.join(self.tmp, "srv", "env")
        os.mkdir(os.path.dirname(dest))
        proc = self.ok(self.venv(dest))
        self.assertEqual(proc.stdout.strip(), dest)
        self.assertTrue(os.path.islink(dest))
        first = os.path.realpath(dest)
        shutil.rmtree(self.root)  # a copy: independent of the runtime cache
        code = "import extpkg, zextramod, app.cli, sys, os; print(extpkg.data()); print(sys.prefix)"
        run = subprocess.run([os.path.join(dest, "bin", "python"), "-c", code],
                             env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, timeout=TIMEOUT)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout.split("\n")[:2], ["hello from data", dest])
        run = subprocess.run([os.path.join(dest, "bin", "appcli"), "where"], env=self.env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, timeout=TIMEOUT)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(json.loads(run.stdout)["ext_data"], "hello from data")
        # The same content again: the same directory, untouched.
        self.ok(self.venv(dest))
        self.assertEqual(os.path.realpath(dest), first)
        # New content: written beside, the link switched, the previous kept
        # (processes may use it); the one before that removed.
        files = base_files()
        for n in (1, 2):
            files["__pyzap__/extract/extpkg/data.txt"] = b"version %d\n" % n
            build(self.art, base_boot(), files)
            self.ok(self.venv(dest))
        self.assertFalse(os.path.exists(first))
        run = subprocess.run([os.path.join(dest, "bin", "python"), "-c", code], env=self.env(),
                             stdout=subprocess.PIPE, universal_newlines=True, timeout=TIMEOUT)
        self.assertEqual(run.stdout.split("\n")[0], "version 2")
        self.assertEqual(len([e for e in os.listdir(os.path.dirname(dest)) if e.startswith(".env-")]), 2)

    def test_venv_leaves_out_an_unflushed_marker(self):
        # The cache's marker is not part of the bundle under either name:
        # the background flush may rename it while the venv is copied.
        self.ok(self.run_art("quiet"))
        tree = self.extracted()
        os.rename(os.path.join(tree, ".pyzap-complete"),
                  os.path.join(tree, ".pyzap-complete." + BOOT_ID))
        dest = os.path.join(self.tmp, "env")
        proc = self.run_art("venv", dest, env=self.env(PYZAP_TOOLS="1"), settle=False)
        self.ok(proc)
        site_packages = os.path.join(dest, "lib", "python%d.%d" % sys.version_info[:2], "site-packages")
        self.assertIn("extpkg", os.listdir(site_packages))
        self.assertFalse([n for n in os.listdir(site_packages) if n.startswith(".pyzap-complete")])

    def test_venv_refuses_a_real_directory_and_bad_usage(self):
        dest = os.path.join(self.tmp, "taken")
        os.mkdir(dest)
        self.assertOneLineError(self.venv(dest), "not a link written by")
        proc = self.run_art("nonsense", env=self.env(PYZAP_TOOLS="1"))
        self.assertEqual(proc.returncode, 2)
        self.assertIn("usage: PYZAP_TOOLS=1", proc.stderr)


class ListenSockets(unittest.TestCase):
    """pyzap_runtime.listen_sockets(): the sd_listen_fds(3) rules."""

    CHILD = textwrap.dedent('''
        import json, os, socket, sys
        sys.path.insert(0, sys.argv[1])
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind(("127.0.0.1", 0)); tcp.listen()
        udp = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        r, w = os.pipe()
        for fd, src in ((3, tcp.fileno()), (4, udp.fileno()), (5, r)):
            os.dup2(src, fd)
        os.environ.update(LISTEN_FDS=sys.argv[2], LISTEN_FDNAMES="web:dns",
                          LISTEN_PID=str(os.getpid() if sys.argv[3] == "me" else 1))
        import pyzap_runtime
        got = pyzap_runtime.listen_sockets(names=True)
        print(json.dumps({
            "got": [[n, s.family.name, s.type.name, s.fileno(), os.get_inheritable(s.fileno())]
                    for n, s in got],
            "again": len(pyzap_runtime.listen_sockets()),
            "env": sorted(k for k in os.environ if k.startswith("LISTEN_")),
        }))
    ''')

    def run_child(self, count, pid):
        proc = subprocess.run([sys.executable, "-c", self.CHILD, os.path.dirname(os.path.dirname(os.path.abspath(RUNTIME))),
                               str(count), pid], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return json.loads(proc.stdout)

    def test_the_sockets_passed_to_this_process(self):
        out = self.run_child(3, "me")
        # fd 5 is a pipe, not a socket: skipped. The names follow the fds.
        self.assertEqual(out["got"], [["web", "AF_INET", "SOCK_STREAM", 3, False],
                                      ["dns", "AF_INET6", "SOCK_DGRAM", 4, False]])
        self.assertEqual(out["again"], 2, "the same sockets on every call")
        self.assertEqual(out["env"], [], "children must not take them for theirs")

    def test_sockets_meant_for_another_process_are_not_taken(self):
        out = self.run_child(2, "other")
        self.assertEqual(out["got"], [])
        self.assertEqual(out["env"], [])


class Passthrough(BootstrapTestCase):
    def test_exit_code(self):
        self.assertEqual(self.run_art("exit", "3").returncode, 3)
        self.assertEqual(self.run_art("exit", "0").returncode, 0)

    def test_app_exception_is_a_normal_traceback(self):
        proc = self.run_art("raise")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("Traceback", proc.stderr)
        self.assertIn("ValueError: boom from the app", proc.stderr)
        self.assertNotIn("pyzap: error", proc.stderr)

    def test_sigterm(self):
        proc = self.run_art("kill")
        self.assertEqual(proc.returncode, -signal.SIGTERM, proc.stderr)

    def test_keyboard_interrupt_like_plain_python(self):
        plain = subprocess.run([sys.executable, "-c", "raise KeyboardInterrupt"],
                               stderr=subprocess.PIPE, timeout=TIMEOUT)
        proc = self.run_art("interrupt")
        self.assertEqual(proc.returncode, plain.returncode)

    def test_missing_import_inside_the_app_is_the_apps_error(self):
        build(self.art, base_boot(entry_module="app.broken"), base_files())
        proc = self.run_art()
        self.assertEqual(proc.returncode, 1)
        self.assertIn("Traceback", proc.stderr)
        self.assertIn("does_not_exist_anywhere_xyz", proc.stderr)
        proc = self.run_art(env=self.env(PYZAP_ENTRY_POINT="app.broken"))
        self.assertIn("Traceback", proc.stderr)


class Interpreter(BootstrapTestCase):
    def ienv(self, **extra):
        return self.env(PYZAP_INTERPRETER="1", **extra)

    def test_dash_c(self):
        proc = self.ok(self.run_art("-c", "import sys, app.cli, extpkg; print(sys.argv)", "a", "b",
                                    env=self.ienv()))
        self.assertEqual(proc.stdout.strip(), "['-c', 'a', 'b']")

    def test_script(self):
        script = os.path.join(self.tmp, "s.py")
        with open(script, "w") as f:
            f.write("import sys, extpkg\nprint(__name__, sys.argv, extpkg.data())\n")
        proc = self.ok(self.run_art(script, "x", env=self.ienv()))
        self.assertEqual(proc.stdout.strip(), "__main__ %r hello from data" % ([script, "x"],))

    def test_dash_m(self):
        proc = self.ok(self.run_art("-m", "app", "y", env=self.ienv()))
        out = json.loads(proc.stdout)
        self.assertTrue(out["self_is_main"])
        self.assertEqual(out["argv"][1:], ["y"])
        self.assertEqual(out["argv"][0], out["file"])

    def test_stdin(self):
        proc = self.ok(self.run_art(env=self.ienv(), input="import extpkg\nprint(extpkg.data())\n"))
        self.assertEqual(proc.stdout.strip(), "hello from data")

    @unittest.skipUnless(hasattr(os, "openpty"), "needs a pty")
    def test_repl(self):
        master, slave = os.openpty()
        proc = subprocess.Popen([sys.executable, self.art], stdin=slave, stdout=slave,
                                stderr=slave, env=self.ienv(TERM="dumb"), close_fds=True)
        os.close(slave)
        os.write(master, b"import extpkg; print('data:', extpkg.data())\n")
        os.write(master, b"raise SystemExit(5)\n")
        output = b""
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        os.close(master)
        self.assertEqual(proc.wait(timeout=TIMEOUT), 5)
        self.assertIn(b"pyzap bundle " + self.art.encode(), output)
        self.assertIn(b"data: hello from data", output)


class Isolation(BootstrapTestCase):
    def user_site(self):
        userbase = os.path.join(self.tmp, "userbase")
        env = self.env(PYTHONUSERBASE=userbase)
        site_dir = subprocess.check_output(
            [sys.executable, "-c", "import site; print(site.getusersitepackages())"],
            env=env, universal_newlines=True).strip()
        os.makedirs(site_dir)
        with open(os.path.join(site_dir, "leaky.py"), "w"):
            pass
        # What `site` runs before the bootstrap: a .pth importing modules
        # (one the bundle also has) and installing an import hook, like
        # certifi's or an editable install's .pth files do.
        with open(os.path.join(site_dir, "zz-early.pth"), "w") as f:
            f.write("import leaky_early, shadow\n")
        with open(os.path.join(site_dir, "shadow.py"), "w") as f:
            f.write("WHERE = 'user site'\n")
        with open(os.path.join(site_dir, "leaky_early.py"), "w") as f:
            f.write(textwrap.dedent("""
                import sys, importlib.machinery
                class PhantomFinder:
                    @classmethod
                    def find_spec(cls, name, path=None, target=None):
                        if name == "phantom":
                            return importlib.machinery.ModuleSpec(name, cls)
                    @staticmethod
                    def create_module(spec):
                        return None
                    @staticmethod
                    def exec_module(module):
                        pass
                sys.meta_path.append(PhantomFinder)
            """))
        # Sanity: plain Python does see them.
        subprocess.check_call([sys.executable, "-c", "import leaky, phantom, sys; "
                               "assert sys.modules['shadow'].WHERE == 'user site'"], env=env)
        return env, site_dir

    def test_user_site_does_not_leak(self):
        env, site_dir = self.user_site()
        out = self.probe("probe", env=env)
        self.assertIsNone(out["leaky"])
        self.assertNotIn(site_dir, out["path"])
        self.assertFalse(out["early_imported"])
        self.assertFalse(out["phantom"])
        self.assertEqual(out["shadow"], "bundle")

    def test_inherit_path(self):
        env, site_dir = self.user_site()
        env["PYZAP_INHERIT_PATH"] = "1"
        out = self.probe("probe", env=env)
        self.assertEqual(out["leaky"], os.path.join(site_dir, "leaky.py"))
        self.assertTrue(out["early_imported"])
        self.assertTrue(out["phantom"])
        self.assertLess(out["path"].index(self.extracted()), out["path"].index(site_dir))
        self.assertGreater(out["path"].index(site_dir), out["path"].index(os.path.join(self.extracted(), "edir")))


class Cache(BootstrapTestCase):
    def test_concurrent_first_runs(self):
        procs = [subprocess.Popen([sys.executable, self.art, "quiet"], env=self.env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(16)]
        for p in procs:
            out, err = p.communicate(timeout=TIMEOUT)
            self.assertEqual(p.returncode, 0, err)
        self.settled()
        self.assertEqual(os.listdir(os.path.join(self.root, "site")), [self.boot["extract_hash"]])
        self.assertTrue(os.path.exists(os.path.join(self.extracted(), ".pyzap-complete")))
        self.assertEqual(os.listdir(os.path.join(self.root, "tmp")), [])

    def test_concurrent_first_runs_over_an_incomplete_dir(self):
        ext = self.extracted()
        os.makedirs(os.path.join(ext, "junk"))
        procs = [subprocess.Popen([sys.executable, self.art, "quiet"], env=self.env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(16)]
        for p in procs:
            out, err = p.communicate(timeout=TIMEOUT)
            self.assertEqual(p.returncode, 0, err)
        self.settled()
        self.assertEqual(sorted(os.listdir(ext)), [".pyzap-bin", ".pyzap-complete", "app-1.0.dist-info", "edir", "epth.pth", "extpkg", "nsp"])
        self.assertEqual(os.listdir(os.path.join(self.root, "tmp")), [])

    def test_empty_final_dir_is_replaced(self):
        os.makedirs(self.extracted())
        self.assertEqual(self.probe("probe")["ext_data"], "hello from data")

    def test_incomplete_dir_is_rebuilt(self):
        ext = self.extracted()
        os.makedirs(os.path.join(ext, "extpkg"))
        with open(os.path.join(ext, "extpkg", "__init__.py"), "w") as f:
            f.write("raise RuntimeError('half-written')\n")
        out = self.probe("probe")
        self.assertEqual(out["ext_data"], "hello from data")
        self.assertTrue(os.path.exists(os.path.join(ext, ".pyzap-complete")))
        self.assertEqual(os.listdir(os.path.join(self.root, "tmp")), [])

    def test_group_or_world_writable_root_is_refused(self):
        os.makedirs(self.root)
        os.chmod(self.root, 0o777)
        self.assertOneLineError(self.run_art("quiet"), self.root, "PYZAP_ROOT", "writable by group or others")
        os.chmod(self.root, 0o770)
        self.assertOneLineError(self.run_art("quiet"), self.root)
        os.chmod(self.root, 0o755)  # readable by others is fine
        self.ok(self.run_art("quiet"))

    @unittest.skipUnless(hasattr(os, "geteuid") and os.geteuid() == 0, "chown needs root")
    def test_root_owned_by_someone_else_is_refused(self):
        os.makedirs(self.root, 0o700)
        os.chown(self.root, 12345, 12345)
        self.assertOneLineError(self.run_art("quiet"), self.root, "uid 12345", "PYZAP_ROOT")

    def test_unwritable_root(self):
        blocker = os.path.join(self.tmp, "file")
        with open(blocker, "w"):
            pass
        self.root = os.path.join(blocker, "cache")  # a path under a regular file
        self.assertOneLineError(self.run_art("quiet"), self.root, "set PYZAP_ROOT to a writable directory")
        if os.geteuid() != 0:  # permissions do not stop root
            self.root = os.path.join(self.tmp, "ro", "cache")
            os.makedirs(os.path.dirname(self.root), 0o500)
            self.assertOneLineError(self.run_art("quiet"), self.root, "Permission denied")

    def test_file_in_the_way_of_the_tmp_dir(self):
        os.makedirs(self.root, 0o700)
        with open(os.path.join(self.root, "tmp"), "w"):
            pass  # a file where the tmp dir should be
        self.assertOneLineError(self.run_art("quiet"), self.root, "set PYZAP_ROOT to a writable directory")
        self.assertFalse(os.path.exists(os.path.join(self.root, "site", self.boot["extract_hash"])))

    @unittest.skipUnless(sys.platform.startswith("linux"), "RLIMIT_FSIZE behaviour")
    def test_full_disk_cleans_up(self):
        import resource
        files = base_files()
        files["__pyzap__/extract/extpkg/big.bin"] = os.urandom(256 * 1024)
        self.boot = build(self.art, base_boot(), files)

        def limit():  # writes over 64 KiB fail with EFBIG (Python ignores SIGXFSZ)
            resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

        proc = subprocess.run([sys.executable, self.art, "quiet"], env=self.env(), preexec_fn=limit,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=TIMEOUT)
        # Python ignores SIGXFSZ: the write fails with EFBIG, and the hint names the limit.
        self.assertOneLineError(proc, self.root, "File too large", "file size limit (ulimit -f)")
        self.assertEqual(os.listdir(os.path.join(self.root, "tmp")), [])
        self.assertEqual(os.listdir(os.path.join(self.root, "site")), [])

    def test_cache_root_rules(self):
        code = "import pyzap_runtime; print(pyzap_runtime.cache_root())"
        home = os.path.join(self.tmp, "home")
        cases = [
            ({"PYZAP_ROOT": self.root}, self.root),
            ({"PYZAP_ROOT": None, "CACHE_DIRECTORY": os.path.join(self.tmp, "sd") + ":/other"},
             os.path.join(self.tmp, "sd", "pyzap")),
        ]
        # Root's default is /var/cache/pyzap (test_root_uses_the_system_cache);
        # the vectors (Protocol) cover these rules for every euid.
        if os.geteuid() != 0:
            cases += [
                ({"PYZAP_ROOT": None, "CACHE_DIRECTORY": None, "XDG_CACHE_HOME": os.path.join(self.tmp, "x")},
                 os.path.join(self.tmp, "x", "pyzap")),
                ({"PYZAP_ROOT": None, "CACHE_DIRECTORY": None, "XDG_CACHE_HOME": "relative", "HOME": home},
                 os.path.join(home, ".cache", "pyzap")),
            ]
        for extra, expected in cases:
            env = self.env(PYZAP_INTERPRETER="1", **extra)
            proc = self.ok(self.run_art("-c", code, env=env))
            self.assertEqual(proc.stdout.strip(), expected)
            self.settled(expected)
            self.assertTrue(os.path.exists(os.path.join(expected, "site", self.boot["extract_hash"],
                                                        ".pyzap-complete")))


class Errors(BootstrapTestCase):
    def test_wrong_cache_tag_for_native_bundle(self):
        build(self.art, base_boot(native="1", cache_tag="cpython-299", python="2.99"), base_files())
        proc = self.run_art("quiet")
        self.assertOneLineError(proc, "2.99", "cpython-299", VERSION, sys.implementation.cache_tag,
                                sys.executable)
        # Not native: the tag does not matter.
        build(self.art, base_boot(native="0", cache_tag="cpython-299"), base_files())
        self.ok(self.run_art("quiet"))

    def test_stable_abi_bundle_runs_on_later_cpythons(self):
        # cp37-abi3 wheels load on every later CPython, whatever the target's tag.
        build(self.art, base_boot(native="1", cache_tag="cpython-299", python="2.99",
                                  abi3="3.7"), base_files())
        self.ok(self.run_art("quiet"))
        build(self.art, base_boot(native="1", cache_tag="cpython-299", abi3="3.99"), base_files())
        self.assertOneLineError(self.run_art("quiet"), "CPython 3.99 or later")

    def test_native_code_for_another_machine_is_one_line(self):
        here = os.uname().machine
        other = "aarch64" if here != "aarch64" else "x86_64"
        build(self.art, base_boot(native="1", machine=other), base_files())
        self.assertOneLineError(self.run_art("quiet"), "native code for %s" % other, here)
        build(self.art, base_boot(native="1", machine=here), base_files())
        self.ok(self.run_art("quiet"))

    def test_native_code_for_a_newer_glibc_is_one_line(self):
        name, _, version = os.confstr("CS_GNU_LIBC_VERSION").partition(" ")
        self.assertEqual(name, "glibc")  # the machines that run these tests
        build(self.art, base_boot(native="1", libc="glibc:99.0"), base_files())
        self.assertOneLineError(self.run_art("quiet"), "needs glibc 99.0 or later",
                                "this system has glibc %s" % version)
        build(self.art, base_boot(native="1", libc="musl:1.2"), base_files())
        self.assertOneLineError(self.run_art("quiet"), "musl")
        build(self.art, base_boot(native="1", libc="glibc:%s" % version), base_files())
        self.ok(self.run_art("quiet"))
        build(self.art, base_boot(native="1", libc="glibc:2.17"), base_files())
        self.ok(self.run_art("quiet"))

    def test_entry_module_missing(self):
        build(self.art, base_boot(entry_module="nope.mod"), base_files())
        self.assertOneLineError(self.run_art(), "'nope.mod'")
        build(self.art, base_boot(entry_module="app.nope"), base_files())
        self.assertOneLineError(self.run_art(), "'app.nope'")
        build(self.art, base_boot(entry_kind="module", entry_module="app.nope"), base_files())
        self.assertOneLineError(self.run_art(), "'app.nope'")
        self.assertOneLineError(self.run_art(env=self.env(PYZAP_ENTRY_POINT="nope")), "'nope'")

    def test_entry_function_missing(self):
        build(self.art, base_boot(entry_function="cli.nope"), base_files())
        self.assertOneLineError(self.run_art(), "'cli'")
        self.assertOneLineError(self.run_art(env=self.env(PYZAP_ENTRY_POINT="app.cli:nope")), "'nope'")

    def test_multi_target_picks_this_interpreter(self):
        # Format 2: the target line of this cache tag and machine wins; its
        # own zipped and extracted site dirs come before the shared one.
        tag = sys.implementation.cache_tag
        machine = os.uname().machine
        other = "cpython-299"
        files = base_files()
        files["site-packages/app/cli.py"] = (
            b"import which\ndef main():\n    print('target', which.NAME, which.EXTRACTED)\n")
        for name in ("mine", "other"):
            files["__pyzap__/targets/%s/site-packages/which.py" % name] = (
                b"from wextract import NAME as EXTRACTED\nNAME = %r\n" % name)
            files["__pyzap__/targets/%s/extract/wextract.py" % name] = b"NAME = %r\n" % name
        boot = base_boot(format="2", native="1", cache_tag=other, pth=[], target=[
            "other %s %s glibc:2.5 __pyzap__/targets/other/site-packages aaaa 2.99" % (other, machine),
            "mine %s %s glibc:2.5 __pyzap__/targets/mine/site-packages bbbb %s" % (tag, machine, VERSION),
        ])
        build(self.art, boot, files)
        proc = self.run_art()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("target mine mine", proc.stdout)
        # An interpreter none of the lines fits: one line naming them all.
        boot["target"] = [boot["target"][0], boot["target"][0].replace("other", "third", 1)]
        build(self.art, boot, files)
        self.assertOneLineError(self.run_art(), "built for other, third;")
        # A glibc newer than this machine's is not this target.
        boot["target"] = ["mine %s %s glibc:99.0 - bbbb %s" % (tag, machine, VERSION)]
        build(self.art, boot, files)
        self.assertOneLineError(self.run_art(), "built for mine;")

    def test_bad_boot_files(self):
        self.boot = build(self.art, base_boot(format="3"), base_files())
        self.assertOneLineError(self.run_art(), "format")
        build(self.art, base_boot(entry_kind="weird"), base_files())
        self.assertOneLineError(self.run_art(), "entry point")
        path = os.path.join(self.tmp, "noboot.pyz")
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("__main__.py", _read(BOOTSTRAP))
        self.assertOneLineError(self.run_art(art=path), "__pyzap__/boot")
        path = os.path.join(self.tmp, "badline.pyz")
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("__main__.py", _read(BOOTSTRAP))
            zf.writestr("__pyzap__/boot", "format=1\nthis line has no equals sign\n")
        self.assertOneLineError(self.run_art(art=path), "line 2")

    def test_unsafe_extract_path(self):
        files = base_files()
        files["__pyzap__/extract/../../evil.py"] = b"x = 1\n"
        self.boot = build(self.art, base_boot(), files)
        self.assertOneLineError(self.run_art("quiet"), "unsafe", "extract/../")
        self.assertEqual(os.listdir(os.path.join(self.root, "tmp")), [])
        self.assertFalse(os.path.exists(os.path.join(self.root, "evil.py")))


def _load_bootstrap():
    """The bootstrap as a module (its `_main` is not run on import)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("pyzap_bootstrap", BOOTSTRAP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _regions(path):
    """{region: [offsets]} of an artifact written by build(): a few bytes of
    the boot entry's data, the nested archive's member data, the nested
    central directory, the outer central directory and the manifest."""
    with zipfile.ZipFile(path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        with open(path, "rb") as f:
            data = f.read()

        def data_start(info):
            head = data[info.header_offset:info.header_offset + 30]
            return (info.header_offset + 30 + int.from_bytes(head[26:28], "little")
                    + int.from_bytes(head[28:30], "little"))

        def spread(start, size, n=4):
            return sorted({start + (size - 1) * k // max(n - 1, 1) for k in range(n)})

        boot = infos["__pyzap__/boot"]
        manifest = infos["__pyzap__/manifest.json"]
        nested = infos["__pyzap__/extract.zip"]
        n_start = data_start(nested)
        inner = data[n_start:n_start + nested.file_size]
        with zipfile.ZipFile(io.BytesIO(inner)) as izf:
            members = [i for i in izf.infolist() if not i.filename.endswith("/")]
            inner_cd = inner.rfind(b"PK\x05\x06")
            cd_offset = int.from_bytes(inner[inner_cd + 16:inner_cd + 20], "little")
        first = members[0]
        m_head = inner[first.header_offset:first.header_offset + 30]
        m_start = (first.header_offset + 30 + int.from_bytes(m_head[26:28], "little")
                   + int.from_bytes(m_head[28:30], "little"))
        outer_eocd = data.rfind(b"PK\x05\x06")
        outer_cd = int.from_bytes(data[outer_eocd + 16:outer_eocd + 20], "little")
        # The bytes that once poisoned the cache: the nested archive's name
        # in the outer central directory (the tree then looked absent and an
        # empty one was marked complete), and the nested archive's end
        # record (its entry count and directory size).
        name_at = data.find(b"__pyzap__/extract.zip", outer_cd)
        nested_eocd = n_start + inner_cd
        return {
            "boot": spread(data_start(boot), boot.compress_size),
            "manifest": spread(data_start(manifest), manifest.compress_size),
            "nested data": spread(n_start + m_start, max(first.compress_size, 1)),
            "nested central directory": spread(n_start + cd_offset, inner_cd - cd_offset + 22)
            + [nested_eocd + 8, nested_eocd + 10, nested_eocd + 12],
            "outer central directory": spread(outer_cd, outer_eocd - outer_cd + 22)
            + [name_at + len("__pyzap__/extract.zip") - 1, name_at + 10],
        }


class Trust(BootstrapTestCase):
    """Runtime issue: what runs is what was built. A damaged copy of an
    artifact never changes what an intact one runs; boot values cannot
    add lines or point outside the bundle."""

    def test_tree_digest_shared_vectors(self):
        bootstrap = _load_bootstrap()
        vectors_path = os.path.join(HERE, os.pardir, os.pardir, "docs", "tree-digest-vectors.json")
        with open(vectors_path, encoding="utf-8") as f:
            vectors = json.load(f)
        for v in vectors:
            files = {name: (crc, size) for name, crc, size in v["files"]}
            self.assertEqual(bootstrap._tree_digest(files), v["digest"], v["name"])

    def test_damaged_copies_never_poison_the_intact_artifact(self):
        regions = _regions(self.art)
        with open(self.art, "rb") as f:
            intact = f.read()
        damaged = os.path.join(self.tmp, "damaged.pyz")
        runs = 0
        for region, offsets in sorted(regions.items()):
            for offset in offsets:
                data = bytearray(intact)
                data[offset] ^= 0xFF
                with open(damaged, "wb") as f:
                    f.write(data)
                # The damaged copy runs first, on an empty cache; whatever it
                # does (run, or fail in one line) ...
                shutil.rmtree(self.root, ignore_errors=True)
                self.run_art("probe", art=damaged)
                runs += 1
                # The intact artifact, on the same cache: always right.
                out = self.probe("probe")
                self.assertEqual(out["ext_data"], "hello from data", (region, offset))
                self.assertEqual(out["nsp"], ["zip", "extract"], (region, offset))
        self.assertGreaterEqual(runs, 15)

    def test_a_tree_that_does_not_match_its_digest_is_refused(self):
        # A boot whose digest is not the tree's (one flipped digit): one
        # line, and nothing left in the cache for an intact artifact to use.
        digest = self.boot["extract_digest"]
        wrong = ("0" if digest[0] != "0" else "1") + digest[1:]
        build(self.art, base_boot(extract_digest=wrong), base_files())
        self.assertOneLineError(self.run_art("quiet"), "is damaged", "Nothing was put in the cache")
        self.assertFalse(os.path.exists(self.extracted()))
        build(self.art, base_boot(extract_digest=""), base_files())
        self.assertOneLineError(self.run_art("quiet"), "tree digest")

    def test_boot_is_split_on_newlines_only(self):
        # U+2028 and \r inside a value stay inside it: no extra key appears.
        boot = base_boot(entry_name="app\u2028entry_module=evil\rentry_function=evil")
        build(self.art, boot, base_files())
        self.ok(self.run_art("quiet"))

    def test_pth_entries_cannot_leave_the_bundle(self):
        for spec in ("extract:../../../etc/evil.pth", "zip:/etc/evil.pth", "extract:a/../../x.pth"):
            build(self.art, base_boot(pth=[spec]), base_files())
            self.assertOneLineError(self.run_art("quiet"), "outside the bundle")

    def test_damaged_boot_is_one_line(self):
        # Deflated boot data that does not inflate (zlib.error in zipimport).
        with open(self.art, "rb") as f:
            data = bytearray(f.read())
        with zipfile.ZipFile(self.art) as zf:
            info = zf.getinfo("__pyzap__/boot")
        head = data[info.header_offset:info.header_offset + 30]
        start = (info.header_offset + 30 + int.from_bytes(head[26:28], "little")
                 + int.from_bytes(head[28:30], "little"))
        for i in range(start, start + info.compress_size):
            data[i] = 0xFF
        with open(self.art, "wb") as f:
            f.write(data)
        self.assertOneLineError(self.run_art("quiet"), "__pyzap__/boot")


class RequiresPython(BootstrapTestCase):
    """An interpreter outside the bundle's Requires-Python gets one line."""

    def test_clauses(self):
        satisfies = _load_bootstrap()._satisfies
        have = (3, 11, 4)
        for clause, expected in [
            (">=3.11", True), (">=3.11.5", False), (">3.11", True), (">3.11.4", False),
            ("<3.12", True), ("<=3.11.4", True), ("<3.11", False), ("==3.11.*", True),
            ("==3.10.*", False), ("!=3.11.*", False), ("!=3.9.*", True), ("==3.11.4", True),
            ("~=3.10", True), ("~=3.11.5", False), ("~=3.11.0", True), (">=3", True),
            ("===3.11.4", True), (">= 3.8", True), ("3.11", True), (">=3.12rc1", False),
        ]:
            self.assertEqual(satisfies(clause, have), expected, clause)

    def test_outside_the_bound_is_one_line(self):
        build(self.art, base_boot(requires_python=">=3.8, >=3.99"), base_files())
        self.assertOneLineError(self.run_art("quiet"), "needs Python >=3.8, >=3.99",
                                sys.executable)
        self.assertFalse(os.path.exists(self.root), "nothing extracted before the refusal")
        build(self.art, base_boot(requires_python=">=3.8, !=2.7.*"), base_files())
        self.ok(self.run_art("quiet"))


class Metadata(BootstrapTestCase):
    """importlib.metadata sees the distributions of the zipped site."""

    def test_distributions_in_the_zipped_site(self):
        files = base_files()
        files["site-packages/z_plugin_host-1.2.dist-info/METADATA"] = (
            b"Metadata-Version: 2.1\nName: Z.Plugin-Host\nVersion: 1.2\n")
        files["site-packages/z_plugin_host-1.2.dist-info/entry_points.txt"] = (
            b"[z.plugins]\ndefault = app.cli:other\n")
        files["site-packages/z_plugin_host-1.2.dist-info/RECORD"] = b""
        build(self.art, base_boot(), files)
        code = textwrap.dedent("""
            import json, sys
            import importlib.metadata as md
            eps = md.entry_points()
            group = (eps.select(group="z.plugins") if hasattr(eps, "select")
                     else eps.get("z.plugins", []))
            out = {
                "version": md.version("z-plugin-host"),
                "by_other_spelling": md.distribution("Z_PLUGIN.HOST").metadata["Name"],
                "plugins": [(ep.name, ep.value) for ep in group],
                "loaded": group and list(group)[0].load().__name__,
                "files": md.distribution("z-plugin-host").read_text("entry_points.txt") is not None,
            }
            try:
                md.version("not-bundled")
                out["missing"] = "found"
            except md.PackageNotFoundError:
                out["missing"] = "not found"
            print(json.dumps(out))
        """)
        proc = self.ok(self.run_art("-c", code, env=self.env(PYZAP_INTERPRETER="1")))
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        self.assertEqual(out["version"], "1.2")
        self.assertEqual(out["by_other_spelling"], "Z.Plugin-Host")
        self.assertEqual(out["plugins"], [["default", "app.cli:other"]])
        self.assertEqual(out["loaded"], "other")
        self.assertTrue(out["files"])
        self.assertEqual(out["missing"], "not found")


class StartupImports(BootstrapTestCase):
    """The warm path imports nothing beyond what `python app.pyz` already does."""

    FORBIDDEN = {"zipfile", "json", "re", "hashlib", "tempfile", "pathlib", "shutil"}

    def imports(self, art, python_args):
        proc = self.run_art("quiet", art=art, python_args=["-X", "importtime"] + python_args,
                            env=self.env(PYZAP_ENTRY_POINT="quiet:main"))
        self.ok(proc)
        names = set()
        for line in proc.stderr.splitlines():
            if line.startswith("import time:") and "|" in line:
                names.add(line.rsplit("|", 1)[1].strip())
        return names

    def test_warm_path_imports(self):
        trivial = os.path.join(self.tmp, "trivial.pyz")
        with zipfile.ZipFile(trivial, "w", zipfile.ZIP_DEFLATED) as zf:
            # Deflated like the artifact's entries: zipimport then needs zlib too.
            zf.writestr("__main__.py", "# " + "x" * 100 + "\n")
        self.ok(self.run_art("quiet"))  # make the cache warm
        for python_args in ([], ["-I"], ["-S"]):
            baseline = self.imports(trivial, python_args)
            ours = self.imports(self.art, python_args)
            # (Some of FORBIDDEN are in the baseline: runpy imports re
            # through typing on 3.9, and site's .pth files import anything.)
            extra = ours - baseline
            self.assertFalse(extra & self.FORBIDDEN, "python_args=%r" % python_args)
            # Under -S the bootstrap imports site itself, so that the
            # bundle's .pth files are processed as in a venv; reading them
            # takes the codec (utf-8-sig on 3.13) or locale (3.8) modules
            # that start-up would have loaded.
            if "-S" in python_args:
                extra -= {"site", "_sitebuiltins", "encodings.utf_8_sig", "_locale", "_bootlocale"}
            self.assertEqual(extra, {"quiet"}, "python_args=%r" % python_args)


VECTORS = os.path.join(HERE, os.pardir, os.pardir, "docs", "cache-root-vectors.json")
# The unprivileged uid the vectors run as when the tests run as root, and
# the owner of "another user's" files.
USER_UID = 4242
OTHER_UID = 4343


class _Refused(Exception):
    """What the bootstrap's _refuse raises in these tests: args (id, message)."""


class _Credentials:
    """Run a block as `uid` (and gid `uid`) when the tests run as root; a
    no-op when `uid` is already the effective one."""

    def __init__(self, uid):
        self.uid = uid
        self.switch = uid != os.geteuid()

    def __enter__(self):
        if self.switch:
            self.groups = os.getgroups()
            os.setgroups([self.uid])
            os.setegid(self.uid)
            os.seteuid(self.uid)

    def __exit__(self, *exc):
        if self.switch:
            os.seteuid(0)
            os.setegid(0)
            os.setgroups(self.groups)


def _mode_text(mode):
    return "%04o" % stat.S_IMODE(mode)


class Protocol(BootstrapTestCase):
    """docs/cache-root-vectors.json through the bootstrap's own functions
    ("Runtime cache protocol" in docs/artifact-format.md). The launcher's
    tests run the same file (crates/pyzap-launcher/tests/it/protocol.rs)."""

    def setUp(self):
        super().setUp()
        with open(VECTORS, encoding="utf-8") as f:
            self.vectors = json.load(f)
        self.b = _load_bootstrap()

        def refuse(refusal, message):
            raise _Refused(refusal, message)

        self.b._refuse = refuse
        self.as_root = os.geteuid() == 0

    def skip_named(self, skipped):
        if skipped:
            self.skipTest("vectors this harness cannot set up without root: " + "; ".join(skipped))

    def test_root_vectors(self):
        import pwd
        import types
        from unittest import mock

        for v in self.vectors["root"]:
            with self.subTest(v["name"]):
                home = v["passwd_home"]
                entry = (mock.patch.object(pwd, "getpwuid", side_effect=KeyError("no entry"))
                         if home is None else
                         mock.patch.object(pwd, "getpwuid", return_value=types.SimpleNamespace(pw_dir=home)))
                with mock.patch.dict(os.environ, v["env"], clear=True), entry, \
                        mock.patch.object(os, "geteuid", return_value=v["euid"]), \
                        mock.patch.object(os, "getcwd", return_value=v["cwd"]):
                    try:
                        got = {"root": self.b._cache_root()}
                    except _Refused as e:
                        got = {"refusal": e.args[0]}
                self.assertEqual(got, v["expect"])

    def make_entries(self, base, entries, owners):
        for e in entries:
            path = e["path"].replace("$T", base)
            if e["kind"] == "symlink":
                os.symlink(e["target"].replace("$T", base), path)
                continue
            if e["kind"] == "dir":
                os.mkdir(path)
            else:
                open(path, "w").close()
            if self.as_root:
                os.chown(path, owners[e["owner"]], owners[e["owner"]])
            os.chmod(path, int(e["mode"], 8))

    def test_check_vectors(self):
        os.chmod(self.tmp, 0o755)  # the unprivileged uid goes through it
        skipped = []
        for i, v in enumerate(self.vectors["check"]):
            foreign = any(e.get("owner", "euid") != "euid" for e in v["fs"])
            if not self.as_root and (v["euid"] == "root" or foreign):
                skipped.append(v["name"])
                continue
            uid = 0 if v["euid"] == "root" else USER_UID if self.as_root else os.geteuid()
            with self.subTest(v["name"]):
                base = os.path.join(self.tmp, "check%d" % i)
                os.mkdir(base, 0o755)
                if self.as_root:
                    os.chown(base, uid, uid)
                self.make_entries(base, v["fs"], {"euid": uid, "root": 0, "other": OTHER_UID})
                umask = os.umask(int(v["umask"], 8))
                try:
                    with _Credentials(uid):
                        try:
                            self.b._check_root(v["root"].replace("$T", base))
                            got = None
                        except _Refused as e:
                            got = e.args[0]
                finally:
                    os.umask(umask)
                expect = v["expect"]
                self.assertEqual(got, expect.get("refusal"))
                for path, mode in sorted(expect.get("modes", {}).items()):
                    st = os.lstat(path.replace("$T", base))
                    self.assertEqual((path, _mode_text(st.st_mode), st.st_uid), (path, mode, uid))
        self.skip_named(skipped)

    def test_marker_vectors(self):
        skipped = []
        for i, v in enumerate(self.vectors["marker"]):
            if "interpreter" in v:
                continue  # the launcher's trees only: a site tree has no interpreter
            marker_spec = v["marker"] or {}
            if marker_spec.get("owner") == "other" and not self.as_root:
                skipped.append(v["name"])
                continue
            with self.subTest(v["name"]):
                tree = os.path.join(self.tmp, "marker%d" % i)
                os.mkdir(tree)
                marker = os.path.join(tree, self.b._MARKER)
                # The file made: the marker, or its unflushed name (step 5).
                made = marker + {None: "", "this-boot": "." + BOOT_ID,
                                 "other-boot": ".00000000-0000-4000-8000-000000000000"}[
                                     marker_spec.get("unflushed")]
                real = os.path.join(tree, "real")
                open(real, "w").close()
                kind = marker_spec.get("kind")
                if kind == "file":
                    open(made, "w").close()
                elif kind == "symlink":
                    os.symlink(real, made)
                elif kind == "dangling-symlink":
                    os.symlink(os.path.join(tree, "missing"), made)
                elif kind == "dir":
                    os.mkdir(made)
                elif kind == "fifo":
                    os.mkfifo(made)
                if marker_spec.get("owner") == "other":
                    os.lchown(made, OTHER_UID, OTHER_UID)
                self.assertEqual(self.b._marked(marker), v["expect"] == "complete")
        self.skip_named(skipped)

    def test_sweep_vectors(self):
        now = time.time()
        for i, v in enumerate(self.vectors["sweep"]):
            with self.subTest(v["name"]):
                base = os.path.join(self.tmp, "sweep%d" % i)
                tmp_root = os.path.join(base, "tmp")
                outside = os.path.join(base, "outside")
                os.makedirs(tmp_root)
                os.makedirs(outside)
                open(os.path.join(outside, "keep"), "w").close()
                for e in v["entries"]:
                    path = os.path.join(tmp_root, e["name"])
                    if e["kind"] == "dir":
                        os.mkdir(path)
                        open(os.path.join(path, "inside"), "w").close()
                    elif e["kind"] == "file":
                        open(path, "w").close()
                    else:
                        os.symlink(outside, path)
                    when = now - e["age_hours"] * 3600
                    os.utime(path, (when, when), follow_symlinks=False)
                self.b._sweep(tmp_root, now)
                self.assertEqual(sorted(os.listdir(tmp_root)), sorted(v["left"]))
                self.assertTrue(os.path.exists(os.path.join(outside, "keep")))

    def test_hint_vectors(self):
        import errno

        for v in self.vectors["hints"]:
            with self.subTest(v["errno"]):
                code = getattr(errno, v["errno"])
                self.assertEqual(self.b._write_hint(OSError(code, os.strerror(code))), v["hint"])


def _walk_modes(top):
    """{path relative to top: st_mode} of top and everything below it (lstat)."""
    modes = {".": os.lstat(top).st_mode}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            modes[os.path.relpath(path, top)] = os.lstat(path).st_mode
    return modes


def _can_unshare():
    try:
        return subprocess.run(["unshare", "-m", "true"], stderr=subprocess.DEVNULL,
                              timeout=TIMEOUT).returncode == 0
    except OSError:
        return False


class Modes(BootstrapTestCase):
    """"Runtime cache protocol", step 3: modes set explicitly, never left to
    the umask; nothing group- or other-writable; as root, trees every user
    can read. The bundle's venv (venv/) follows the same rules."""

    def test_nothing_group_writable_under_umask_002(self):
        os.makedirs(self.root)
        os.chmod(self.root, 0o750)  # shared with a group that cannot write
        proc = subprocess.run([sys.executable, self.art, "quiet"], env=self.env(),
                              preexec_fn=lambda: os.umask(0o002), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=TIMEOUT)
        self.ok(proc)
        self.settled()
        modes = _walk_modes(self.root)
        writable = {p: _mode_text(m) for p, m in modes.items()
                    if not stat.S_ISLNK(m) and m & 0o022}
        self.assertEqual(writable, {})
        self.assertEqual(_mode_text(modes["."]), "0750")  # an existing root keeps its mode
        self.assertEqual(_mode_text(modes["site"]), "0755" if os.geteuid() == 0 else "0700")
        self.assertEqual(_mode_text(modes["tmp"]), "0700")
        self.assertEqual(_mode_text(modes["venv"]), "0755" if os.geteuid() == 0 else "0700")
        venv = [p for p in modes if p.startswith("venv" + os.sep) and p.count(os.sep) == 1]
        self.assertEqual(len(venv), 1, venv)
        self.assertEqual(_mode_text(modes[venv[0]]), "0755" if os.geteuid() == 0 else "0700")
        self.assertEqual(_mode_text(modes[os.path.join(venv[0], "pyvenv.cfg")]), "0644")
        self.assertEqual(_mode_text(modes[os.path.join(venv[0], "bin", "appcli")]), "0755")
        tree = os.path.join("site", self.boot["extract_hash"])
        self.assertEqual(_mode_text(modes[tree]), "0755")
        self.assertEqual(_mode_text(modes[os.path.join(tree, ".pyzap-complete")]), "0644")
        self.assertEqual(_mode_text(modes[os.path.join(tree, "extpkg", "tool.sh")]), "0755")
        self.assertEqual(_mode_text(modes[os.path.join(tree, "extpkg", "data.txt")]), "0644")
        pycache = os.path.join(tree, "extpkg", "__pycache__")  # made by _compile_missing
        self.assertEqual(_mode_text(modes[pycache]), "0755")
        pycs = [p for p in modes if p.startswith(pycache + os.sep)]
        self.assertTrue(pycs)
        self.assertEqual({_mode_text(modes[p]) for p in pycs}, {"0644"})

    def test_a_missing_root_is_made_with_exact_modes_under_umask_077(self):
        self.root = os.path.join(self.tmp, "new", "cache")
        proc = subprocess.run([sys.executable, self.art, "quiet"], env=self.env(),
                              preexec_fn=lambda: os.umask(0o077), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True, timeout=TIMEOUT)
        self.ok(proc)
        shared = os.geteuid() == 0
        for path in (os.path.dirname(self.root), self.root, os.path.join(self.root, "site")):
            self.assertEqual(_mode_text(os.stat(path).st_mode), "0755" if shared else "0700", path)
        modes = _walk_modes(self.extracted())
        files = {_mode_text(m) for m in modes.values() if stat.S_ISREG(m)}
        dirs = {_mode_text(m) for m in modes.values() if stat.S_ISDIR(m)}
        self.assertEqual((files, dirs), ({"0644", "0755"}, {"0755"}))

    @unittest.skipUnless(hasattr(os, "geteuid") and os.geteuid() == 0, "the root rule needs root")
    def test_root_uses_the_system_cache(self):
        # In a private mount namespace, over a tmpfs on /var/cache: as root,
        # without PYZAP_ROOT, the cache is /var/cache/pyzap, readable by
        # everybody whatever the umask, and writable only by root.
        if not _can_unshare():
            self.skipTest("unshare -m is not allowed here")
        code = ("import json, os, sys\n"
                "out = {}\n"
                "for d, dirs, files in os.walk('/var/cache/pyzap'):\n"
                "    for n in ['.'] + dirs + files:\n"
                "        st = os.lstat(os.path.join(d, n))\n"
                "        out[os.path.relpath(os.path.join(d, n), '/var/cache/pyzap')] = [st.st_mode, st.st_uid]\n"
                "print(json.dumps(out))\n")
        script = ('mount -t tmpfs -o mode=0755 none /var/cache && umask 077 && "$0" "$1" quiet && '
                  'PYZAP_INTERPRETER=1 "$0" "$1" -c "$2"')
        env = self.env(PYZAP_ROOT=None, CACHE_DIRECTORY=None)
        proc = self.ok(subprocess.run(["unshare", "-m", "sh", "-c", script, sys.executable, self.art, code],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      universal_newlines=True, timeout=TIMEOUT))
        found = json.loads(proc.stdout.strip().splitlines()[-1])
        tree = os.path.join("site", self.boot["extract_hash"])
        self.assertEqual(found["."], [stat.S_IFDIR | 0o755, 0])
        self.assertEqual(_mode_text(found["site"][0]), "0755")
        self.assertEqual(_mode_text(found["tmp"][0]), "0700")
        # Under its name, or its unflushed name while the flush runs (step 6).
        marker = os.path.join(tree, ".pyzap-complete")
        marker = marker if marker in found else marker + "." + BOOT_ID
        self.assertEqual(found[marker], [stat.S_IFREG | 0o644, 0])
        in_tree = {p: m for p, (m, _) in found.items() if p == tree or p.startswith(tree + os.sep)}
        self.assertEqual({_mode_text(m) for m in in_tree.values() if stat.S_ISDIR(m)}, {"0755"})
        self.assertEqual({_mode_text(m) for m in in_tree.values() if stat.S_ISREG(m)}, {"0644", "0755"})


class MarkerAndErrors(BootstrapTestCase):
    def _venv(self):
        venvs = os.listdir(os.path.join(self.root, "venv"))
        self.assertEqual(len(venvs), 1, venvs)
        return os.path.join(self.root, "venv", venvs[0])

    def test_first_run_flushes_in_the_background(self):
        # The run does not wait for the disk: its trees are marked with
        # this boot's id, and a detached process renames the markers once
        # the file system is flushed (settled() fails if that never happens).
        self.ok(self.run_art("quiet"))
        for tree, marker in ((self.extracted(), ".pyzap-complete"), (self._venv(), ".pyzap-venv")):
            names = os.listdir(tree)
            self.assertIn(marker, names)
            self.assertFalse([n for n in names if n.startswith(marker + ".")], names)

    def test_an_unflushed_marker_of_this_boot_is_trusted(self):
        self.ok(self.run_art("quiet"))
        for tree, marker in ((self.extracted(), ".pyzap-complete"), (self._venv(), ".pyzap-venv")):
            os.rename(os.path.join(tree, marker), os.path.join(tree, marker + "." + BOOT_ID))
            open(os.path.join(tree, "sentinel"), "w").close()
        self.assertEqual(self.probe("probe", settle=False)["ext_data"], "hello from data")
        self.assertTrue(os.path.exists(os.path.join(self.extracted(), "sentinel")))
        self.assertTrue(os.path.exists(os.path.join(self._venv(), "sentinel")))

    def test_an_unflushed_marker_of_another_boot_is_not_trusted(self):
        # The machine restarted before the tree reached the disk: part of it
        # may be lost, so it is unpacked again, and its environment made again.
        self.ok(self.run_art("quiet"))
        other = "00000000-0000-4000-8000-000000000000"
        self.assertNotEqual(other, BOOT_ID)
        for tree, marker in ((self.extracted(), ".pyzap-complete"), (self._venv(), ".pyzap-venv")):
            os.rename(os.path.join(tree, marker), os.path.join(tree, marker + "." + other))
            open(os.path.join(tree, "sentinel"), "w").close()
        self.assertEqual(self.probe("probe")["ext_data"], "hello from data")
        for tree, marker in ((self.extracted(), ".pyzap-complete"), (self._venv(), ".pyzap-venv")):
            names = os.listdir(tree)
            self.assertIn(marker, names)
            self.assertNotIn("sentinel", names)
            self.assertNotIn(marker + "." + other, names)

    def test_a_symlinked_marker_is_not_a_marker(self):
        self.ok(self.run_art("quiet"))
        marker = os.path.join(self.extracted(), ".pyzap-complete")
        planted = os.path.join(self.tmp, "planted")
        open(planted, "w").close()
        os.unlink(marker)
        os.symlink(planted, marker)
        self.assertEqual(self.probe("probe")["ext_data"], "hello from data")
        self.assertFalse(os.path.islink(marker))  # extracted again, marked again
        self.assertTrue(stat.S_ISREG(os.lstat(marker).st_mode))

    def test_write_errors_name_their_cause(self):
        # ENAMETOOLONG needs no privilege; ENOSPC and EROFS need a private
        # mount namespace (a tiny tmpfs, a read-only bind mount).
        self.root = os.path.join(self.tmp, "x" * 300, "cache")
        self.assertOneLineError(self.run_art("quiet"), "a path is too long", "set PYZAP_ROOT")
        if not (hasattr(os, "geteuid") and os.geteuid() == 0 and _can_unshare()):
            self.skipTest("ENOSPC and EROFS need root and unshare -m")
        mnt = os.path.join(self.tmp, "mnt")
        os.mkdir(mnt)
        files = base_files()
        files["__pyzap__/extract/extpkg/big.bin"] = os.urandom(512 * 1024)
        self.boot = build(self.art, base_boot(), files)
        for mount, needles in (
                ("mount -t tmpfs -o size=256k none \"$M\"",
                 ("No space left on device", "the disk is full", "set PYZAP_ROOT")),
                ("mount --bind \"$M\" \"$M\" && mount -o remount,ro,bind \"$M\"",
                 ("Read-only file system", "under systemd, set CacheDirectory= in the unit"))):
            with self.subTest(mount):
                script = mount + ' && exec "$0" "$1" quiet'
                self.root = os.path.join(mnt, "cache")
                env = self.env(M=mnt)
                proc = subprocess.run(["unshare", "-m", "sh", "-c", script, sys.executable, self.art],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      universal_newlines=True, timeout=TIMEOUT)
                self.assertOneLineError(proc, *needles)


if __name__ == "__main__":
    unittest.main()
