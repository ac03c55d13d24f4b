"""The workloads: what each tool bundles, and exactly what each run executes.

Every workload names its requirements (or a project directory), a console
script when there is one, the ``module:function`` that script calls (used by
the tools that take an entry point instead: stdlib zipapp, PyInstaller, and
every tool for workloads without a script), the arguments of a start-up run,
and a string the run's output must contain (so a broken artifact is counted
as a failure, not as a fast start).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import measure
from .index import Wheelhouse, normalize, wheel_tags


@dataclass
class Workload:
    key: str
    title: str
    requirements: list = field(default_factory=list)
    project: Path | None = None  # a local project directory (copied before each build)
    script: str | None = None  # console script, when the workload has one
    entry: str = ""  # module:function the console script (or the run) calls
    args: list = field(default_factory=list)
    expect: str = ""  # the run's stdout must contain this
    runs: str = ""  # human description of the start-up run
    note: str = ""
    # A cross-target build: made on this CPython 3.11 for another version
    # and platform, run by that version (an empty venv of it).
    cross_python: str | None = None  # "3.9"
    cross_platform: str | None = None  # "manylinux_2_28_x86_64"

    def pip_cross_args(self) -> list:
        """pip's flags for installing this workload's target, not this machine's."""
        if not self.cross_python:
            return []
        return ["--platform", self.cross_platform, "--python-version", self.cross_python,
                "--implementation", "cp", "--only-binary=:all:"]

    def inputs(self, build_dir: Path) -> list:
        """Positional build inputs: requirement strings, or the project's copy."""
        if self.project is not None:
            return [str(build_dir / "project")]
        return list(self.requirements)

    def prepare(self, build_dir: Path):
        """Untimed preparation of a build directory (a fresh copy of the project)."""
        build_dir.mkdir(parents=True, exist_ok=True)
        if self.project is not None:
            shutil.copytree(self.project, build_dir / "project", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist"))

    def wrapper_code(self) -> str:
        """What a console-script wrapper does: import the entry and exit with its result."""
        module, _, func = self.entry.partition(":")
        return f"import sys\nfrom {module} import {func.split('.')[0]}\nsys.exit({func}())\n"

    def to_json(self):
        return {
            "key": self.key,
            "title": self.title,
            "requirements": self.requirements,
            "project": str(self.project) if self.project else None,
            "script": self.script,
            "entry": self.entry,
            "args": self.args,
            "runs": self.runs,
            "expect": self.expect,
            "note": self.note,
            "cross_python": self.cross_python,
            "cross_platform": self.cross_platform,
        }


def cp311_compatible(filename: str, minor: int = 11) -> bool:
    """A wheel that installs on CPython 3.<minor>, x86_64 Linux."""
    ok_py = {"py3", "py2.py3", f"cp3{minor}"} | {f"cp3{m}" for m in range(2, minor + 1)}
    for py, abi, plat in wheel_tags(filename):
        if py not in ok_py and py != "py2":
            continue
        if abi == "none" and py in ("py3", "py2"):
            pass
        elif abi == f"cp3{minor}" and py == f"cp3{minor}":
            pass
        elif abi == "abi3" and py.startswith("cp3"):
            pass
        else:
            continue
        if plat == "any" or (plat.endswith("x86_64") and ("manylinux" in plat or plat == "linux_x86_64")):
            return True
    return False


def large_set(wheelhouse: Path, index_url: str, python: str, env: dict, uv: str) -> tuple[list, str]:
    """Every project of the wheelhouse with a wheel for CPython 3.11, pinned to
    the newest versions that resolve together (``uv pip compile``, wheels only).

    Returns (pinned requirements, note)."""
    house = Wheelhouse(wheelhouse)
    names = sorted(
        p for p, files in house.projects.items() if any(f["kind"] == "wheel" and cp311_compatible(f["filename"]) for f in files)
    )
    req_in = Path(env["PYZAP_BENCH_TMP"]) / "large-set.in"
    req_in.write_text("\n".join(names) + "\n")
    r = measure.run(
        [uv, "pip", "compile", "--quiet", "--no-header", "--no-annotate", "--only-binary", ":all:",
         "--python", python, "--index-url", index_url, str(req_in)],
        env=env, timeout=300,
    )
    if not r.ok:
        raise RuntimeError(f"could not resolve the large set: {r.error_line()}")
    pins = [l.strip() for l in r.stdout.splitlines() if re.match(r"^[A-Za-z0-9]", l.strip())]
    missing = sorted(set(names) - {normalize(p.split("==")[0]) for p in pins})
    note = f"{len(pins)} distributions: every wheelhouse project with a cp311 or pure wheel, newest versions that resolve together"
    if missing:
        note += f" (left out, unresolvable: {', '.join(missing)})"
    return pins, note


def all_workloads(repo: Path) -> list:
    black = Workload(
        key="black",
        title="black",
        requirements=["black"],
        script="black",
        entry="black:patched_main",
        args=["--version"],
        expect="(compiled:",
        runs="`black --version` (black's console script: black:patched_main)",
        note="mypyc-compiled native wheel with package data",
    )
    return [
        black,
        Workload(
            key="flask-gunicorn",
            title="flask + gunicorn",
            requirements=["flask", "gunicorn"],
            script="gunicorn",
            entry="gunicorn.app.wsgiapp:run",
            args=["--version"],
            expect="(version ",  # gunicorn prints "%(prog)s (version X)": prog is the zip app's name
            runs="`gunicorn --version` (console script gunicorn.app.wsgiapp:run)",
        ),
        Workload(
            key="echo-wsgi",
            title="echo WSGI app (waitress)",
            project=repo / "examples" / "echo-wsgi",
            script="echo-wsgi",
            entry="echo_wsgi:main",
            args=["--version"],
            expect="echo-wsgi 1.0.0",
            runs="`echo-wsgi --version` (examples/echo-wsgi, built from source with flit_core)",
        ),
        Workload(
            key="requests",
            title="requests",
            requirements=["requests"],
            script=None,
            entry="requests.help:main",
            args=[],
            expect='"requests": {',
            runs="entry point requests.help:main (imports requests, urllib3, idna, charset_normalizer, certifi; prints a JSON report); "
            "venvs run `python -c 'import sys; from requests.help import main; sys.exit(main())'`",
        ),
        replace(
            black,
            key="black-cp39",
            title="black for CPython 3.9 (cross-target build)",
            expect="(compiled: yes)",
            runs="`black --version` under CPython 3.9 (an empty venv of it); built by the tools running on 3.11",
            note="built on CPython 3.11 for CPython 3.9 on manylinux_2_28_x86_64, without a 3.9 interpreter at build "
                 "time (so without precompiled bytecode where a tool would need one to compile it); the tools that "
                 "need the target interpreter to build (venvs, PyInstaller, standalone) are shown as unsupported",
            cross_python="3.9",
            cross_platform="manylinux_2_28_x86_64",
        ),
        Workload(
            key="large",
            title="large set (whole wheelhouse, cp311)",
            requirements=[],  # filled in at run time by large_set()
            script="pygmentize",
            entry="pygments.cmdline:main",
            args=["-V"],
            expect="Pygments version",
            runs="`pygmentize -V` (console script pygments.cmdline:main) from a bundle of the whole set",
        ),
    ]
