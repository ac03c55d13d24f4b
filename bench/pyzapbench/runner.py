"""Runs every workload with every tool and collects the figures.

Order of work, per workload:

1. N build rounds; in each round every tool builds with a cold cache, then
   every tool builds with a warm cache (the cache its first cold build
   filled): A B C (cold) A B C (warm), B C A (cold) B C A (warm), … so drift
   (thermal, other load) hits every tool and both cache states alike, and
   the order rotates by one tool each round;
2. N start-up rounds of the last artifact each tool built; each round runs,
   tool after tool (the floor ``python -S -c pass`` is one more "tool"):
   a. warm start with ``PYTHONDONTWRITEBYTECODE=1`` (its own runtime caches,
      primed by one untimed run under the same setting),
   b. first run on an empty runtime cache (a fresh PYZAP_ROOT / SHIV_ROOT /
      PEX_ROOT for every run), bytecode writable,
   c. warm start with bytecode writable (its own runtime caches, primed by one
      untimed run).
   The tool order rotates each round here too.

Before every timed step the harness runs sync(2), untimed (see settle()).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import measure
from .index import LocalIndex
from .measure import Stat
from .tools import ALL_TOOLS, PYZAP_INDEX_NOTE, cache_env
from .workloads import all_workloads, large_set

FIGURES = [
    # key, label, unit
    ("build_cold_s", "build, cold cache", "s"),
    ("build_warm_s", "build, warm cache", "s"),
    ("build_peak_rss_mb", "build peak RSS (cold)", "MB"),
    ("size_mb", "artifact size", "MB"),
    ("first_run_s", "first run, empty runtime cache", "ms"),
    ("warm_start_s", "warm start, bytecode writable", "ms"),
    ("warm_start_dwb_s", "warm start, PYTHONDONTWRITEBYTECODE=1", "ms"),
]
START_FIGURES = ("first_run_s", "warm_start_s", "warm_start_dwb_s")
MB = 1_000_000


@dataclass
class Figure:
    stat: Stat = field(default_factory=Stat)
    error: str | None = None

    def to_json(self):
        d = self.stat.to_json() if self.stat.n else {"median": None, "min": None, "max": None, "n": 0, "samples": []}
        d["error"] = self.error
        return d


@dataclass
class ToolResult:
    name: str
    kind: str
    status: str = "ok"  # ok | failed | unsupported | skipped
    reason: str | None = None
    figures: dict = field(default_factory=lambda: {k: Figure() for k, _, _ in FIGURES})
    warm_peak_rss: Stat = field(default_factory=Stat)
    commands: list = field(default_factory=list)
    output: str | None = None  # first line a start-up run printed
    spent: float = 0.0  # wall seconds this tool cost the run (builds + start-ups), for the time budget

    def to_json(self):
        return {
            "kind": self.kind,
            "status": self.status,
            "reason": self.reason,
            "figures": {k: f.to_json() for k, f in self.figures.items()},
            "build_warm_peak_rss_mb": self.warm_peak_rss.to_json(),
            "commands": self.commands,
            "output": self.output,
            "seconds_spent": round(self.spent, 2),
        }


class MissingPython(Exception):
    def __init__(self, version):
        super().__init__(f"no CPython {version} on this machine (looked in ~/.pyenv/versions/{version}*/bin "
                         f"and for python{version} on PATH): cannot run this workload")


def find_python(version: str):
    """The newest pyenv CPython `version`, else `pythonX.Y` on PATH, else None."""
    import glob

    found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")), reverse=True)
    found.append(shutil.which(f"python{version}") or "")
    return next((c for c in found if c and os.access(c, os.X_OK)), None)


class Context:
    """Paths, interpreters and the environment every measurement runs in."""

    def __init__(self, args, bench_dir: Path, work: Path, index_url: str):
        self.bench_dir = bench_dir
        self.repo = bench_dir.parent
        self.work = work
        self.index_url = index_url
        self.wheelhouse = Path(args.wheelhouse).resolve()
        self.venv_bin = Path(sys.prefix) / "bin"
        self.peer_wheels = Path(sys.prefix) / "peer-wheels"
        self.base_python = str(Path(getattr(sys, "_base_executable", sys.executable)).resolve())
        self.python_version = platform.python_version()
        self.pyzap = args.pyzap
        self.pyzap_source = args.pyzap
        self.pyzap_mtime = None
        if args.pyzap and Path(args.pyzap).is_file():
            # A private copy: cargo may replace target/release/pyzap while we run.
            frozen = work / "bin" / "pyzap"
            frozen.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(args.pyzap, frozen)  # --standalone's launcher stub is inside
            self.pyzap_mtime = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(frozen.stat().st_mtime))
            self.pyzap = str(frozen)
        self.base_env = make_base_env(self.venv_bin, work)
        self.pyinstaller_version = read_pin(bench_dir / "requirements.txt", "pyinstaller")
        self.python_dist = Path(args.python_dist).resolve() if args.python_dist else None
        rt = work / "runtime-venv"
        r = measure.run([self.base_python, "-m", "venv", "--without-pip", rt], env=self.base_env)
        if not r.ok:
            raise RuntimeError(f"cannot create the runtime venv: {r.error_line()}")
        self.runtime_python = str(rt / "bin" / "python")
        self._runtimes = {}

    def runtime_python_for(self, wl) -> str:
        """The python that runs `wl`'s zip apps: an empty venv of the workload's
        target version (this CPython 3.11, or the cross target's)."""
        if not wl.cross_python:
            return self.runtime_python
        if wl.cross_python not in self._runtimes:
            base = find_python(wl.cross_python)
            if base is None:
                raise MissingPython(wl.cross_python)
            rt = self.work / f"runtime-venv-{wl.cross_python}"
            r = measure.run([base, "-m", "venv", "--without-pip", rt], env=self.base_env)
            if not r.ok:
                raise RuntimeError(f"cannot create the CPython {wl.cross_python} runtime venv: {r.error_line()}")
            self._runtimes[wl.cross_python] = str(rt / "bin" / "python")
        return self._runtimes[wl.cross_python]


    def bin(self, name):
        return str(self.venv_bin / name)

    def tool_version(self, argv):
        r = measure.run(argv, env=self.base_env, timeout=60)
        text = (r.stdout or r.stderr).strip()
        return text.splitlines()[0] if text else f"(exit {r.rc})"

    def env(self, **extra):
        env = dict(self.base_env)
        env.update({k: str(v) for k, v in extra.items()})
        return env


def read_pin(path: Path, name: str) -> str:
    for line in path.read_text().splitlines():
        if line.strip().lower().startswith(name + "=="):
            return line.split("==", 1)[1].strip()
    raise RuntimeError(f"{name} is not pinned in {path}")


def make_base_env(venv_bin: Path, work: Path) -> dict:
    """The inherited environment minus everything that would steer a tool
    (indexes, caches, interpreters), plus a proxy guard: any attempt to reach
    a host other than 127.0.0.1 goes to a closed port and fails."""
    env = {}
    drop_prefixes = ("PIP_", "UV_", "PEX_", "SHIV_", "PYZAP_", "PYINSTALLER_", "PYTHON", "VIRTUAL_ENV", "CONDA", "PYENV_VERSION")
    for k, v in os.environ.items():
        if k.startswith(drop_prefixes) or k.lower().endswith("_proxy"):
            continue
        env[k] = v
    env["PATH"] = f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"
    env.update(
        {
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_NO_INPUT": "1",
            "UV_PYTHON_DOWNLOADS": "never",
            "UV_NO_CONFIG": "1",
            "UV_NO_PROGRESS": "1",
            "TMPDIR": str(work / "tmp"),
            "PYZAP_BENCH_TMP": str(work / "tmp"),
        }
    )
    for k in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[k] = "http://127.0.0.1:9"
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    (work / "tmp").mkdir(parents=True, exist_ok=True)
    return env


def tree_size(path: Path) -> int:
    """Bytes of a file, or of every file under a directory (hard links once)."""
    if path.is_file():
        return path.stat().st_size
    seen, total = set(), 0
    for root, _, files in os.walk(path):
        for f in files:
            st = os.lstat(os.path.join(root, f))
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_size
    return total


OVERHEAD = {"rm": 0.0, "size": 0.0, "prepare": 0.0, "sync": 0.0}


def settle():
    """Flush dirty pages before a timed step (untimed): otherwise the previous
    step's writes (a venv, an extracted cache) are written back during the
    next one, and a tool that calls syncfs itself (pyzap's first run) would
    pay for every other tool's writes."""
    t0 = time.perf_counter()
    os.sync()
    OVERHEAD["sync"] += time.perf_counter() - t0


def rotate(items, i):
    """`items` starting at position i (mod len): no tool is always the first
    after a phase change, or always right after the same neighbour."""
    items = list(items)
    if not items:
        return items
    k = i % len(items)
    return items[k:] + items[:k]


def rm(path: Path):
    t0 = time.perf_counter()
    shutil.rmtree(path, ignore_errors=True)
    OVERHEAD["rm"] += time.perf_counter() - t0


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, args, ctx: Context, workloads, tools):
        self.args = args
        self.ctx = ctx
        self.workloads = workloads
        self.tools = tools
        self.results = {}

    # -- builds ---------------------------------------------------------------
    def build_once(self, tool, wl, out: Path, cache: Path):
        """One build; returns (plan, seconds, peak RSS KiB, error or None)."""
        rm(out)
        t1 = time.perf_counter()
        wl.prepare(out)
        OVERHEAD["prepare"] += time.perf_counter() - t1
        cache.mkdir(parents=True, exist_ok=True)
        plan = tool.plan(wl, out, cache)
        env = self.ctx.env(**cache_env(cache))
        settle()
        t0 = time.perf_counter()
        peak = 0
        for step in plan.steps:
            r = measure.run(step.argv, env={**env, **step.env}, cwd=out, timeout=self.args.build_timeout)
            peak = max(peak, r.maxrss_kb)
            if not r.ok:
                return plan, None, None, f"{step.label or step.argv[0]}: {r.error_line()}"
        seconds = time.perf_counter() - t0
        if not plan.artifact.exists():
            return plan, None, None, f"exited 0 but produced no {plan.artifact.name}"
        return plan, seconds, peak, None

    def run_builds(self, wl, active, res):
        plans, warm_cache, warm_failed = {}, {}, set()
        wdir = self.ctx.work / wl.key
        n = self.args.build_runs
        for i in range(n):  # round i: every tool cold, then every tool warm
            for phase in ("cold", "warm"):
                for tool in rotate(active, i):
                    r = res[tool.name]
                    if r.status != "ok" or tool.name in warm_failed:
                        continue
                    out = wdir / tool.name / f"{phase}{i}"
                    cache = warm_cache[tool.name] if phase == "warm" else wdir / tool.name / f"cache-cold{i}"
                    t0 = time.perf_counter()
                    plan, secs, peak, err = self.build_once(tool, wl, out, cache)
                    r.spent += time.perf_counter() - t0
                    if i == 0 and phase == "cold":
                        r.commands = [" ".join(map(str, s.argv)) for s in plan.steps]
                    fig = r.figures[f"build_{phase}_s"]
                    if err:
                        rm(out)
                        log(f"  {wl.key:15} {tool.name:12} {phase} build {i + 1}/{n}: FAILED {err}")
                        if phase == "cold":  # nothing to measure at all
                            r.status, r.reason = "failed", f"cold build failed: {err}"
                            for f in r.figures.values():
                                f.error = r.reason
                        else:  # the cold artifact still runs; only the warm figure is lost
                            fig.error = f"warm build failed: {err}"
                            warm_failed.add(tool.name)
                        continue
                    fig.stat.add(secs)
                    if phase == "cold":
                        r.figures["build_peak_rss_mb"].stat.add(peak * 1024 / MB)
                        t1 = time.perf_counter()
                        r.figures["size_mb"].stat.add(tree_size(plan.artifact) / MB)
                        OVERHEAD["size"] += time.perf_counter() - t1
                    else:
                        r.warm_peak_rss.add(peak * 1024 / MB)
                    log(f"  {wl.key:15} {tool.name:12} {phase} build {i + 1}/{n}: {secs:6.2f} s  {peak / 1024:6.0f} MB")
                    if tool.name in plans:  # keep only the newest artifact
                        old = plans[tool.name][1]
                        if old != out:
                            rm(old)
                    plans[tool.name] = (plan, out)
                    if phase == "cold":
                        if i == 0:
                            warm_cache[tool.name] = cache
                        else:
                            rm(cache)
        return {k: v[0] for k, v in plans.items() if res[k].status == "ok"}

    # -- start-up -------------------------------------------------------------
    def check(self, wl, name, r):
        """None when a start-up run counts, else why it does not."""
        if not r.ok:
            return r.error_line()
        if name != "floor" and wl.expect not in r.stdout:
            return f"unexpected output: {(r.stdout.strip().splitlines() or [''])[0][:120]}"
        return None

    def run_starts(self, wl, plans, res, floor):
        """Start-up figures.  Every round runs, tool after tool: the warm start
        with PYTHONDONTWRITEBYTECODE=1, the first run on an empty runtime cache,
        the warm start with bytecode writable -- so all three columns and all
        tools see the same drift."""
        cwd = self.ctx.work / "cwd"
        cwd.mkdir(exist_ok=True)
        wdir = self.ctx.work / wl.key / "runtime"
        tools = {t.name: t for t in self.tools}
        entries = [(name, [*plan.run_argv, *wl.args]) for name, plan in plans.items()]
        floor_argv = [self.ctx.runtime_python_for(wl), "-S", "-c", "pass"]

        def env_for(phase, name, i):
            if name == "floor":
                return self.ctx.env(**({"PYTHONDONTWRITEBYTECODE": "1"} if phase == "warm_start_dwb_s" else {}))
            if phase == "first_run_s":
                # A fresh, empty runtime cache for every run, removed with wdir
                # when the workload is done: deleting 40 MB trees between runs
                # (ext4 with `discard` here) slowed every later file creation,
                # a drift that grew run after run (pyzap 0.5 -> 2.4 s on `large`).
                return self.ctx.env(**tools[name].runtime_env(wdir / "first" / f"{name}-{i}"))
            mode = "dwb" if phase == "warm_start_dwb_s" else "writable"
            extra = tools[name].runtime_env(wdir / mode / name)
            if mode == "dwb":
                extra["PYTHONDONTWRITEBYTECODE"] = "1"
            return self.ctx.env(**extra)

        phases = ("warm_start_dwb_s", "first_run_s", "warm_start_s")
        live = {ph: [name for name, _ in entries] + ([] if ph == "first_run_s" else ["floor"]) for ph in phases}
        argv_of = dict(entries, floor=floor_argv)

        def fail(ph, name, why):
            res[name].figures[ph].error = why
            log(f"  {wl.key:15} {name:12} {ph}: FAILED {why}")
            live[ph].remove(name)

        # Prime the warm runtime caches: one untimed run each, under its own setting.
        for ph in ("warm_start_dwb_s", "warm_start_s"):
            for name in list(live[ph]):
                env = env_for(ph, name, 0)
                r = measure.run(argv_of[name], env=env, cwd=cwd, timeout=300)
                if name != "floor":
                    res[name].spent += r.seconds
                    why = self.check(wl, name, r)
                    if why:
                        fail(ph, name, why)
        log(f"  {wl.key:15} start-up: {self.args.start_runs} rounds of "
            "[warm start PYTHONDONTWRITEBYTECODE=1, first run on an empty runtime cache, warm start bytecode writable]")
        for i in range(self.args.start_runs):
            for ph in phases:
                for name in rotate(live[ph], i):
                    env = env_for(ph, name, i)
                    settle()
                    r = measure.run(argv_of[name], env=env, cwd=cwd, timeout=120)
                    fig = floor[ph] if name == "floor" else res[name].figures[ph]
                    if name != "floor":
                        res[name].spent += r.seconds
                    why = self.check(wl, name, r)
                    if why:
                        if name == "floor":
                            fig.error = why
                            live[ph].remove(name)
                        else:
                            fail(ph, name, why)
                        continue
                    fig.stat.add(r.seconds)
                    if name != "floor" and res[name].output is None:
                        lines = r.stdout.strip().splitlines() or [""]
                        res[name].output = next((l.strip() for l in lines if wl.expect in l), lines[0])[:100]
        rm(wdir)

    # -- all ------------------------------------------------------------------
    def run_workload(self, wl):
        res = {}
        active = []
        for tool in self.tools:
            r = ToolResult(tool.name, tool.kind)
            reason = tool.unsupported(wl)
            skip = self.args.skip.get(tool.name)
            if skip and (skip is True or wl.key in skip):
                r.status, r.reason = "skipped", self.args.skip_reason[tool.name]
            elif reason:
                r.status, r.reason = "unsupported", reason
            else:
                active.append(tool)
            res[tool.name] = r
        try:
            self.ctx.runtime_python_for(wl)
        except MissingPython as e:
            log(f"  {wl.key:15} SKIPPED: {e}")
            for r in res.values():
                if r.status == "ok":
                    r.status, r.reason = "skipped", str(e)
            active = []
        floor = {"warm_start_s": Figure(), "warm_start_dwb_s": Figure()}
        t0 = time.perf_counter()
        plans = self.run_builds(wl, active, res)
        self.run_starts(wl, plans, res, floor)
        rm(self.ctx.work / wl.key)
        return {
            "workload": wl.to_json(),
            "tools": {k: v.to_json() for k, v in res.items()},
            "floor": {k: v.to_json() for k, v in floor.items()},
            "seconds": time.perf_counter() - t0,
        }


def git_state(repo: Path) -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo, capture_output=True,
                               text=True).stdout.strip()
        return head + (" (with uncommitted changes)" if dirty else "")
    except OSError:
        return "unknown"


def select(names, all_items, what, key=lambda x: x):
    if not names:
        return list(all_items)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    byname = {key(x): x for x in all_items}
    unknown = [n for n in wanted if n not in byname]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (known: {', '.join(byname)})")
    return [byname[n] for n in wanted]


def main(args, bench_dir: Path):
    started = time.time()
    load_before = os.getloadavg()
    work = Path(args.work).resolve() if args.work else Path(__import__("tempfile").mkdtemp(prefix="pyzap-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    wls = select(args.workloads, all_workloads(bench_dir.parent), "workload", key=lambda w: w.key)
    try:
        # PEP 503 HTML pages without PEP 658 metadata files or ranges: every
        # tool reads metadata from the wheels it downloads.
        with LocalIndex(Path(args.wheelhouse), pages="html", binary=args.index_binary) as index:
            log(f"local index: {index.url} (serving {args.wheelhouse})")
            ctx = Context(args, bench_dir, work, index.url)
            tools = [cls(ctx) for cls in select(args.tools, ALL_TOOLS, "tool", key=lambda c: c.name)]
            versions = {t.name: t.version() for t in tools}
            log("versions: " + "; ".join(f"{k}: {v}" for k, v in versions.items()))
            for wl in wls:
                if wl.key == "large":
                    wl.requirements, wl.note = large_set(ctx.wheelhouse, ctx.index_url, ctx.runtime_python, ctx.env(
                        **cache_env(work / "large-resolve")), ctx.bin("uv"))
            results = {}
            loads = [os.getloadavg()[0]]
            for wl in wls:
                log(f"== {wl.title}")
                results[wl.key] = Bench(args, ctx, [wl], tools).run_workload(wl)
                loads.append(os.getloadavg()[0])
        index_requests = index.requests  # counted by the server as it stops
    finally:
        if not args.keep:
            rm(work)
    import resource

    ru_c, ru_s = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    meta = {
        "mode": "quick" if args.quick else "full",
        # CPU time the run used (all children + the harness, index server included):
        # with the steps running one at a time, about the wall time the run
        # would take on an otherwise idle machine.
        "harness_seconds": {k: round(v, 1) for k, v in OVERHEAD.items()},
        "cpu_seconds": round(ru_c.ru_utime + ru_c.ru_stime + ru_s.ru_utime + ru_s.ru_stime, 1),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": time.time() - started,
        "build_runs": args.build_runs,
        "start_runs": args.start_runs,
        "baseline": args.baseline,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "loadavg_1min_after_each_workload": loads,
        },
        "python": {"version": ctx.python_version, "base": ctx.base_python, "runtime_venv": ctx.runtime_python},
        "versions": versions,
        "pyzap_binary": ctx.pyzap_source,
        "pyzap_binary_mtime": ctx.pyzap_mtime,
        "git": git_state(bench_dir.parent),
        "index": {"url": "http://127.0.0.1:<port>/simple/ (PEP 503 HTML, no metadata files or ranges; "
                         "pyzap-test-index, the Rust tests' index server, over the wheelhouse)",
                  "server": str(args.index_binary),
                  "wheelhouse": str(ctx.wheelhouse), "requests_served": index_requests, "pyzap": PYZAP_INDEX_NOTE},
        "bytecode": {
            "machine_PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE"),
            "builds": "bytecode writable (PYTHONDONTWRITEBYTECODE unset)",
            "first_run_s": "bytecode writable (PYTHONDONTWRITEBYTECODE unset)",
            "warm_start_s": "bytecode writable (PYTHONDONTWRITEBYTECODE unset)",
            "warm_start_dwb_s": "PYTHONDONTWRITEBYTECODE=1",
        },
        "peak_memory_method": "os.wait4 ru_maxrss of each build step (largest single process of the step's tree, "
                              "RUSAGE_BOTH semantics, like /usr/bin/time -v); max over the steps",
        "skipped": {k: v for k, v in args.skip_reason.items() if k in args.skip},
        "figures": {k: {"label": l, "unit": u} for k, l, u in FIGURES},
    }
    return {"meta": meta, "workloads": results}
