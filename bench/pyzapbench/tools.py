"""The tools under test: how each one builds a workload and how its artifact runs.

A build is a list of steps (argv + extra environment) run one after the
other; its time is the wall time of all steps, its peak memory the largest
peak RSS of any step (see measure.py).  Every step gets the same cache
environment (PIP_CACHE_DIR, UV_CACHE_DIR, PEX_ROOT, PYZAP_CACHE_DIR,
PYINSTALLER_CONFIG_DIR, XDG_CACHE_HOME all inside one per-build cache
directory), so "cold" means every cache a tool could use is empty and
"warm" means the tool's own cache from an earlier build of the same workload.

Every artifact that is a zip application (pyzap, pex, shiv, zipapp) runs with
``RUNTIME_PYTHON ARTIFACT ARGS`` where RUNTIME_PYTHON is the python of an
empty venv (``python -m venv --without-pip``): the pyenv base interpreter
carries a ``.pth`` start-up hook that venvs skip, and the venv references
(uv, venv) run their console scripts with their own venv python, so this is
like with like.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .workloads import Workload

# How pyzap is pointed at the packages: the same local index as the peers
# (its HTTP cache lives in the build's PYZAP_CACHE_DIR, cold or warm).
def pyzap_index_args(ctx) -> list:
    return ["--index-url", ctx.index_url]


PYZAP_INDEX_NOTE = "every tool, pyzap included, resolves from the local HTTP index"


@dataclass
class Step:
    argv: list
    env: dict = field(default_factory=dict)
    label: str = ""


@dataclass
class BuildPlan:
    steps: list
    artifact: Path  # file (zip app, binary) or directory (venv)
    run_argv: list  # the start-up run, without the workload's args
    entry_desc: str = ""


class Tool:
    name = ""
    kind = ""  # what the artifact is
    runtime_cache = None  # env var of the runtime cache, if the artifact has one

    def __init__(self, ctx):
        self.ctx = ctx

    def unsupported(self, wl: Workload):
        """None when the tool can build the workload, else the reason it cannot."""
        return None

    def version(self) -> str:
        return ""

    def plan(self, wl: Workload, out: Path, cache: Path) -> BuildPlan:
        raise NotImplementedError

    def runtime_env(self, root: Path) -> dict:
        """Environment of a run with an (initially empty) runtime cache at ``root``."""
        return {"PYZAP_ROOT": str(root / "pyzap"), "SHIV_ROOT": str(root / "shiv"), "PEX_ROOT": str(root / "pex")}

    def rt(self, wl) -> str:
        """The python that runs this workload's zip apps (and is their shebang)."""
        return self.ctx.runtime_python_for(wl)

    def _entry_args(self, wl, script_flag="-c", entry_flag="-e"):
        return [script_flag, wl.script] if wl.script else [entry_flag, wl.entry]


class Pyzap(Tool):
    name = "pyzap"
    kind = "single-file .pyz"
    runtime_cache = "PYZAP_ROOT"

    def version(self):
        if not self.ctx.pyzap or not Path(self.ctx.pyzap).exists():
            return "not built"
        from . import measure

        r = measure.run([self.ctx.pyzap, "--version"], timeout=30)
        return (r.stdout.strip() or r.error_line()).splitlines()[0] if (r.stdout or r.stderr) else f"(no output, exit {r.rc})"

    def plan(self, wl, out, cache):
        art = out / "app.pyz"
        target = (["--python-version", wl.cross_python, "--platform", wl.cross_platform] if wl.cross_python
                  else ["--python", self.rt(wl)])
        argv = [self.ctx.pyzap or "pyzap-not-found", "build", *wl.inputs(out), *pyzap_index_args(self.ctx),
                *target, *self._entry_args(wl), "-o", art]
        return BuildPlan([Step(argv, label="pyzap build")], art, [self.rt(wl), art])


class PyzapStandalone(Tool):
    name = "pyzap-standalone"
    kind = "single-file executable (pyzap build --standalone: launcher + CPython 3.11 + app)"
    runtime_cache = "PYZAP_ROOT"

    def unsupported(self, wl):
        if wl.cross_python:
            return "a standalone executable carries its own CPython (3.11 here): no cross-version build"
        if self.ctx.python_dist is None or not self.ctx.python_dist.exists():
            return f"no CPython distribution at {self.ctx.python_dist} (--python-dist)"
        return None

    def version(self):
        dist = self.ctx.python_dist.name if self.ctx.python_dist else "none"
        return f"pyzap --standalone with {dist}"

    def plan(self, wl, out, cache):
        art = out / "app"
        argv = [self.ctx.pyzap or "pyzap-not-found", "build", *wl.inputs(out), *pyzap_index_args(self.ctx),
                "--standalone", "--python-dist", self.ctx.python_dist, *self._entry_args(wl), "-o", art]
        return BuildPlan([Step(argv, label="pyzap build --standalone")], art, [art])


class Pex(Tool):
    name = "pex"
    kind = "single-file .pex"
    runtime_cache = "PEX_ROOT"

    def version(self):
        return self.ctx.tool_version([self.ctx.bin("pex"), "--version"])

    def plan(self, wl, out, cache):
        art = out / "app.pex"
        target = ([f"--platform={wl.cross_platform}-cp-{wl.cross_python.replace('.', '')}-cp{wl.cross_python.replace('.', '')}"]
                  if wl.cross_python else ["--python", self.rt(wl)])
        argv = [self.ctx.bin("pex"), *wl.inputs(out), *self._entry_args(wl), "-o", art,
                *target, "--pex-root", cache / "pex",
                "--no-pypi", "--index-url", self.ctx.index_url, "-f", self.ctx.peer_wheels / "pex"]
        return BuildPlan([Step(argv, label="pex")], art, [self.rt(wl), art])


class Shiv(Tool):
    name = "shiv"
    kind = "single-file .pyz"
    runtime_cache = "SHIV_ROOT"

    def version(self):
        return self.ctx.tool_version([self.ctx.bin("shiv"), "--version"])

    def plan(self, wl, out, cache):
        art = out / "app.pyz"
        # Arguments shiv does not know go to its `pip install --target`.
        argv = [self.ctx.bin("shiv"), *self._entry_args(wl), "-o", art, "-p", self.rt(wl),
                "--index-url", self.ctx.index_url, *wl.pip_cross_args(), *wl.inputs(out)]
        return BuildPlan([Step(argv, label="shiv")], art, [self.rt(wl), art])


class Zipapp(Tool):
    name = "zipapp"
    kind = "single-file .pyz (stdlib zipapp, pip --target)"

    def version(self):
        return "stdlib (Python " + self.ctx.python_version + ") + " + self.ctx.tool_version([self.ctx.bin("pip"), "--version"]).split(" from")[0]

    def plan(self, wl, out, cache):
        art = out / "app.pyz"
        site = out / "site"
        steps = [
            Step([self.ctx.bin("pip"), "install", "--quiet", "--no-input", "--target", site,
                  "--index-url", self.ctx.index_url, *wl.pip_cross_args(), *wl.inputs(out)], label="pip install --target"),
            Step([self.ctx.bin("python"), "-m", "zipapp", site, "-m", wl.entry, "-p", self.rt(wl), "-o", art],
                 label="python -m zipapp"),
        ]
        return BuildPlan(steps, art, [self.rt(wl), art])


class Uv(Tool):
    name = "uv"
    kind = "venv (uv venv + uv pip install --compile-bytecode)"

    def unsupported(self, wl):
        return "a venv needs the target interpreter at build time: not a cross-target build" if wl.cross_python else None

    def version(self):
        return self.ctx.tool_version([self.ctx.bin("uv"), "--version"])

    def plan(self, wl, out, cache):
        venv = out / "venv"
        uv = self.ctx.bin("uv")
        steps = [
            Step([uv, "venv", "--quiet", "--python", self.ctx.base_python, venv], label="uv venv"),
            Step([uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", venv / "bin" / "python",
                  "--index-url", self.ctx.index_url, *wl.inputs(out)], label="uv pip install"),
        ]
        return BuildPlan(steps, venv, venv_run(venv, wl))


class Venv(Tool):
    name = "venv"
    # Without pip inside: installing pip into every venv (ensurepip) costs
    # 3.1 s a build, which says nothing about the app; the pip outside
    # installs into the venv instead (pip --python, pip >= 22.3).
    kind = "venv (python -m venv --without-pip + pip --python VENV install)"

    def unsupported(self, wl):
        return "a venv needs the target interpreter at build time: not a cross-target build" if wl.cross_python else None

    def version(self):
        pip = self.ctx.tool_version([self.ctx.bin("pip"), "--version"]).split(" from")[0]
        return f"python -m venv (Python {self.ctx.python_version}) + {pip}"

    def plan(self, wl, out, cache):
        venv = out / "venv"
        steps = [
            Step([self.ctx.base_python, "-m", "venv", "--without-pip", venv], label="python -m venv --without-pip"),
            Step([self.ctx.bin("pip"), "--python", venv / "bin" / "python", "install", "--quiet", "--no-input",
                  "--index-url", self.ctx.index_url, *wl.inputs(out)], label="pip --python VENV install"),
        ]
        return BuildPlan(steps, venv, venv_run(venv, wl))


class PyInstaller(Tool):
    name = "pyinstaller"
    kind = "single-file binary (--onefile)"

    def unsupported(self, wl):
        return "PyInstaller freezes the interpreter it runs on: no cross-version builds" if wl.cross_python else None

    def version(self):
        return "PyInstaller " + self.ctx.pyinstaller_version

    def plan(self, wl, out, cache):
        venv = out / "build-venv"
        uv = self.ctx.bin("uv")
        entry_py = out / "entry.py"
        entry_py.write_text(wl.wrapper_code())
        name = wl.script or wl.key
        steps = [
            Step([uv, "venv", "--quiet", "--python", self.ctx.base_python, venv], label="uv venv"),
            Step([uv, "pip", "install", "--quiet", "--python", venv / "bin" / "python", "--index-url", self.ctx.index_url,
                  "--find-links", self.ctx.peer_wheels / "pyinstaller", f"pyinstaller=={self.ctx.pyinstaller_version}", *wl.inputs(out)],
                 label="uv pip install (app + pyinstaller)"),
            Step([venv / "bin" / "pyinstaller", "--onefile", "--noconfirm", "--log-level", "WARN", "--name", name,
                  "--distpath", out / "dist", "--workpath", out / "work", "--specpath", out / "work", entry_py],
                 label="pyinstaller --onefile"),
        ]
        return BuildPlan(steps, out / "dist" / name, [out / "dist" / name])


def cache_env(cache: Path) -> dict:
    """Every build cache any of the tools could use, inside ``cache``."""
    return {
        "PIP_CACHE_DIR": str(cache / "pip"),
        "UV_CACHE_DIR": str(cache / "uv"),
        "PEX_ROOT": str(cache / "pex"),
        "PYZAP_CACHE_DIR": str(cache / "pyzap"),
        "PYINSTALLER_CONFIG_DIR": str(cache / "pyinstaller"),
        "XDG_CACHE_HOME": str(cache / "xdg"),
    }


def venv_run(venv: Path, wl: Workload) -> list:
    """A venv runs the console script itself (its shebang is the venv's python),
    or, without a script, the same code a console-script wrapper would run."""
    if wl.script:
        return [venv / "bin" / wl.script]
    return [venv / "bin" / "python", "-c", wl.wrapper_code()]


ALL_TOOLS = [Pyzap, Pex, Shiv, Zipapp, Uv, Venv, PyInstaller, PyzapStandalone]
TOOL_NAMES = [t.name for t in ALL_TOOLS]
