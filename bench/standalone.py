#!/usr/bin/env python3
"""Standalone executables next to PyInstaller and a venv, on the suite's workloads.

    python3 bench/standalone.py [--quick] [--workloads black,requests] [--pyinstaller LIST] [--runs N]

For each workload of bench/run.py that a standalone executable can run
(black, flask-gunicorn, echo-wsgi, requests; black-cp39 needs another
interpreter and `large` the suite's resolver: `bench/run.py --standalone all`
covers it), builds offline from ../shared/wheelhouse:

- `pyzap build --standalone` with the CPython of ../shared/python-dist
  (target/release/pyzap must exist: `cargo build --release -p pyzap-cli`);
- a venv of bench/.venv's CPython 3.11 with the workload installed by pip
  (the start-up reference);
- PyInstaller --onefile, from the wheels bench/run.py keeps in
  bench/.venv/peer-wheels/pyinstaller (run `python3 bench/run.py --quick`
  once), for black and flask-gunicorn by default (`--pyinstaller all|none|LIST`;
  none with --quick).

Then measures, in one rotation per workload so machine noise hits every
figure alike (A B C A B C …): the standalone's first run (a fresh
PYZAP_ROOT each time: unpack CPython, the site tree, the venv; after an
untimed `sync`, and the roots are kept until the end: deleting thousands of
files just before a first run makes creating the next ones slower), its warm
start, the venv's start, and PyInstaller's run (a onefile binary unpacks on
every run). Each figure is the median wall time and the median CPU time
(user + system of the process and the children it waited for, from
`wait4`), which a loaded machine disturbs less; the load average is
printed with them. The targets of issue 14: first run <= 2x warm start,
size <= 0.5x PyInstaller. Also printed: the launcher's size and the glibc
the executable needs (`pyzap info`), and the stub's own cost on a one-line
app. Only the standard library is used; everything goes to a scratch
directory, removed at the end unless --keep.
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO / "bench"))
from pyzapbench.workloads import all_workloads  # noqa: E402

WORKLOADS = ("black", "flask-gunicorn", "echo-wsgi", "requests")
DEFAULT_PYINSTALLER = "black,flask-gunicorn"
BENCH_VENV = REPO / "bench" / ".venv"
PI_WHEELS = BENCH_VENV / "peer-wheels" / "pyinstaller"


def timed(cmd, env, expect=None):
    """(wall ms, cpu ms) of one run; the run must succeed and print `expect`."""
    start = time.perf_counter()
    proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = out.decode("utf-8", "replace")
    if proc.returncode != 0 or (expect and expect not in text):
        raise SystemExit("%s failed (%s):\n%s" % (" ".join(map(str, cmd)), proc.returncode, text[-2000:]))
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def run(cmd, env=None, **kw):
    subprocess.run([str(c) for c in cmd], env=env, check=True, **kw)


def base_python():
    """bench/.venv's CPython 3.11, else python3.11 on PATH."""
    for cand in (BENCH_VENV / "bin" / "python", shutil.which("python3.11")):
        if cand and os.path.exists(cand):
            return str(cand)
    raise SystemExit("no CPython 3.11: run `python3 bench/run.py --quick` once, or put python3.11 on PATH")


def pyinstaller_pin():
    req = (REPO / "bench" / "requirements.txt").read_text()
    return next(line.split("==")[1].strip() for line in req.splitlines() if line.startswith("pyinstaller=="))


def build(wl, kind, out, ctx):
    """Builds `kind` (standalone, venv, pyinstaller) of `wl` in `out`;
    returns (the command a run executes, the bytes measured as its size)."""
    out.mkdir(parents=True)
    wl.prepare(out)
    inputs = wl.inputs(out)
    wheelhouse = str(ctx.wheelhouse)
    if kind == "standalone":
        exe = out / "app"
        entry = ["-c", wl.script] if wl.script else ["-e", wl.entry]
        run([ctx.pyzap, "build", *inputs, "-f", wheelhouse, "--no-index", "--standalone",
             "--python-dist", ctx.python_dist, *entry, "-o", exe, "-q"], ctx.env)
        return [exe, *wl.args], exe.stat().st_size
    venv = out / "venv"
    run([ctx.python, "-m", "venv", "--without-pip", venv], ctx.env)
    pip = [ctx.python, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-index",
           "-f", wheelhouse]
    if kind == "venv":
        run([*pip, *inputs], ctx.env)
        size = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file() and not f.is_symlink())
        if wl.script:
            return [venv / "bin" / wl.script, *wl.args], size
        return [venv / "bin" / "python", "-c", wl.wrapper_code(), *wl.args], size
    run([*pip, "-f", PI_WHEELS, "pyinstaller==" + pyinstaller_pin(), *inputs], ctx.env)
    entry_py = out / "entry.py"
    entry_py.write_text(wl.wrapper_code())
    name = wl.script or wl.key
    run([venv / "bin" / "pyinstaller", "--onefile", "--noconfirm", "--log-level", "WARN", "--name", name,
         "--distpath", out / "dist", "--workpath", out / "work", "--specpath", out / "work", entry_py], ctx.env)
    exe = out / "dist" / name
    return [exe, *wl.args], exe.stat().st_size


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def measure(wl, cmds, runs, ctx):
    """Interleaved runs: {figure: ([wall ms], [cpu ms])}."""
    figures = {k: ([], []) for k in ("first", "warm", *cmds.keys() - {"standalone"})}
    warm_env = dict(ctx.env, PYZAP_ROOT=str(ctx.work / ("warm-" + wl.key)))
    timed(cmds["standalone"], warm_env, wl.expect)  # the warm root's own first run
    time.sleep(0.5)  # its detached flusher
    for other in cmds.keys() - {"standalone"}:
        timed(cmds[other], ctx.env, wl.expect)  # page cache, bytecode
    for i in range(runs):
        cold_env = dict(ctx.env, PYZAP_ROOT=str(ctx.work / ("cold-%s-%d" % (wl.key, i))))
        order = [("first", cmds["standalone"], cold_env), ("warm", cmds["standalone"], warm_env)]
        order += [(k, c, ctx.env) for k, c in cmds.items() if k != "standalone"]
        for figure, cmd, env in order:
            if figure == "first":
                # Untimed: the previous first run's detached flushers are
                # done, and each first run starts with nothing to flush.
                os.sync()
            wall, cpu = timed(cmd, env, wl.expect)
            figures[figure][0].append(wall)
            figures[figure][1].append(cpu)
    return figures


def info(ctx, exe):
    text = subprocess.run([ctx.pyzap, "info", exe], env=ctx.env, check=True, capture_output=True, text=True).stdout
    stub = re.search(r"launcher (\d+) bytes", text)
    payload = re.search(r"payload (\d+) bytes", text)
    glibc = re.search(r"runs on (glibc [0-9.]+ or later|any glibc|[^\n;]+)", text)
    return (int(stub.group(1)) if stub else None, int(payload.group(1)) if payload else None,
            glibc.group(1) if glibc else "?")


def stub_overhead(ctx, runs):
    """The stub's own cost: a one-line app, against its extracted interpreter."""
    src = ctx.work / "tiny-src"
    src.mkdir()
    (src / "__main__.py").write_text('print("hi")\n')
    tiny = ctx.work / "tiny-app"
    run([ctx.pyzap, "build", "--src", src, "--standalone", "--python-dist", ctx.python_dist, "-o", tiny, "-q"],
        ctx.env)
    env = dict(ctx.env, PYZAP_ROOT=str(ctx.work / "tiny-root"))
    timed([tiny], env, "hi")
    python = glob.glob(os.path.join(env["PYZAP_ROOT"], "python", "*", "bin", "python3*"))[0]
    stub, direct = [], []
    for _ in range(runs):
        stub.append(timed([tiny], env, "hi")[0])
        direct.append(timed([python, tiny], env, "hi")[0])
    return median(stub), median(direct)


def pick(option, default, quick):
    if option is None:
        option = "none" if quick else default
    if option == "all":
        return set(WORKLOADS)
    return {w.strip() for w in option.split(",") if w.strip() and w.strip() != "none"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=None, help="runs per figure (default 15; 7 with --quick)")
    ap.add_argument("--quick", action="store_true", help="black only, no PyInstaller (unless --pyinstaller)")
    ap.add_argument("--workloads", help="comma list of: " + ", ".join(WORKLOADS))
    ap.add_argument("--pyinstaller", help="workloads PyInstaller builds: all, none or a comma list "
                                          "(default %s; none with --quick)" % DEFAULT_PYINSTALLER)
    ap.add_argument("--pyzap", default=str(REPO / "target" / "release" / "pyzap"))
    ap.add_argument("--wheelhouse", default=str(SHARED / "wheelhouse"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    runs = args.runs or (7 if args.quick else 15)
    chosen = [w.strip() for w in (args.workloads or ("black" if args.quick else ",".join(WORKLOADS))).split(",")]
    unknown = set(chosen) - set(WORKLOADS)
    if unknown:
        raise SystemExit("unknown workloads: %s (choose from %s)" % (", ".join(sorted(unknown)), ", ".join(WORKLOADS)))
    with_pi = pick(args.pyinstaller, DEFAULT_PYINSTALLER, args.quick)
    if with_pi and not PI_WHEELS.is_dir():
        print("PyInstaller left out: no %s (run `python3 bench/run.py --quick` once)" % PI_WHEELS)
        with_pi = set()
    if not os.path.exists(args.pyzap):
        raise SystemExit("%s is missing: cargo build --release -p pyzap-cli" % args.pyzap)

    class Ctx:
        pass

    ctx = Ctx()
    ctx.pyzap = args.pyzap
    ctx.wheelhouse = Path(args.wheelhouse)
    ctx.python = base_python()
    ctx.python_dist = sorted(glob.glob(str(SHARED / "python-dist" / "*install_only.tar.gz")))[-1]
    ctx.work = Path(tempfile.mkdtemp(prefix="pyzap-sa-bench-"))
    ctx.env = dict(os.environ, PYZAP_CACHE_DIR=str(ctx.work / "build-cache"),
                   PYINSTALLER_CONFIG_DIR=str(ctx.work / "pyinstaller-config"), PIP_NO_INPUT="1")
    for var in ("PYTHONPATH", "PYTHONHOME", "PYZAP_INTERPRETER", "PYZAP_ENTRY_POINT", "PYZAP_ROOT",
                "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"):
        ctx.env.pop(var, None)
    workloads = {w.key: w for w in all_workloads(REPO)}
    rows = []
    try:
        for key in chosen:
            wl = workloads[key]
            cmds, sizes = {}, {}
            for kind in ("standalone", "venv", *(["pyinstaller"] if key in with_pi else [])):
                start = time.perf_counter()
                cmds[kind], sizes[kind] = build(wl, kind, ctx.work / key / kind, ctx)
                print("%s: built %s in %.1f s" % (key, kind, time.perf_counter() - start), flush=True)
            stub, payload, glibc = info(ctx, cmds["standalone"][0])
            figures = measure(wl, cmds, runs, ctx)
            rows.append((wl, sizes, figures, stub, payload, glibc))
        t_stub, t_direct = stub_overhead(ctx, runs * 2)
    finally:
        if args.keep:
            print("kept", ctx.work)
        else:
            shutil.rmtree(ctx.work, ignore_errors=True)

    def fig(figures, name, i):
        return median(figures[name][i]) if name in figures else float("nan")

    print("\nload average %s; %d runs per figure, interleaved; wall ms (cpu ms = user+sys)" % (
        " ".join("%.2f" % x for x in os.getloadavg()), runs))
    print("\n| workload | standalone | PyInstaller | size ratio (target <= 0.5) | first run | warm start "
          "| first / warm (target <= 2) | venv start | warm / venv | PyInstaller run |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for wl, sizes, f, stub, payload, glibc in rows:
        pi = sizes.get("pyinstaller")
        print("| %s | %.1f MB | %s | %s | %.0f (%.0f) | %.0f (%.0f) | %.2f (%.2f) | %.0f (%.0f) | %.2f | %s |" % (
            wl.key, sizes["standalone"] / 1e6, "%.1f MB" % (pi / 1e6) if pi else "not built",
            "%.2f" % (sizes["standalone"] / pi) if pi else "",
            fig(f, "first", 0), fig(f, "first", 1), fig(f, "warm", 0), fig(f, "warm", 1),
            fig(f, "first", 0) / fig(f, "warm", 0), fig(f, "first", 1) / fig(f, "warm", 1),
            fig(f, "venv", 0), fig(f, "venv", 1), fig(f, "warm", 0) / fig(f, "venv", 0),
            "%.0f (%.0f)" % (fig(f, "pyinstaller", 0), fig(f, "pyinstaller", 1)) if pi else ""))
    for wl, sizes, f, stub, payload, glibc in rows[:1]:
        print("\nlauncher: %s bytes (%.0f KiB); CPython payload %.1f MB; runs on %s" % (
            stub, (stub or 0) / 1024, (payload or 0) / 1e6, glibc))
    print("stub overhead on print('hi'): %.1f ms vs %.1f ms with its interpreter directly = %.2f ms (target < 2 ms)"
          % (t_stub, t_direct, t_stub - t_direct))


if __name__ == "__main__":
    sys.exit(main())
