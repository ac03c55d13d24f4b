"""Ratios, target checks, the markdown table and the PNG chart."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from .runner import FIGURES, START_FIGURES

SCALE = {"s": 1.0, "ms": 1000.0, "MB": 1.0}
TARGET_WORKLOADS = ("black", "echo-wsgi")
WARM_START_BUDGET_MS = 3.0
WARM_BUILD_SPEEDUP = 5.0


def add_ratios(results: dict):
    """ratio = tool median / baseline median, per figure (>1: the baseline is faster/smaller)."""
    base = results["meta"]["baseline"]
    for wl in results["workloads"].values():
        b = wl["tools"].get(base)
        wl["ratios"] = {}
        for name, t in wl["tools"].items():
            wl["ratios"][name] = {}
            for key, _, _ in FIGURES:
                mine = t["figures"][key]["median"]
                theirs = b["figures"][key]["median"] if b else None
                wl["ratios"][name][key] = (mine / theirs) if mine is not None and theirs else None


def _median(wl, tool, key):
    t = wl["tools"].get(tool)
    return t["figures"][key]["median"] if t else None


def check_targets(results: dict) -> list:
    """The project's targets, each with the numbers behind it and a verdict."""
    out = []
    for wkey in TARGET_WORKLOADS:
        wl = results["workloads"].get(wkey)
        if not wl:
            continue
        for key, setting in (("warm_start_s", "bytecode writable"), ("warm_start_dwb_s", "PYTHONDONTWRITEBYTECODE=1")):
            p, v = _median(wl, "pyzap", key), _median(wl, "venv", key)
            floor = wl["floor"][key]
            item = {
                "target": f"warm start within {WARM_START_BUDGET_MS:g} ms of the venv",
                "workload": wkey,
                "setting": setting,
                "pyzap_ms": p * 1000 if p is not None else None,
                "venv_ms": v * 1000 if v is not None else None,
                "floor_ms": floor["median"] * 1000 if floor["median"] is not None else None,
            }
            if p is None or v is None:
                item["delta_ms"], item["met"] = None, None
                item["why"] = "no pyzap figure" if p is None else "no venv figure"
            else:
                ps = wl["tools"]["pyzap"]["figures"][key]["samples"]
                vs = wl["tools"]["venv"]["figures"][key]["samples"]
                # The runs alternate, so run i of pyzap and run i of the venv saw
                # the same machine: the median of the paired differences is the
                # verdict, robust to drift; min-vs-min is the least noisy view.
                pairs = sorted((a - b) * 1000 for a, b in zip(ps, vs))
                item["delta_ms"] = statistics.median(pairs)
                item["delta_min_ms"], item["delta_max_ms"] = pairs[0], pairs[-1]
                item["delta_of_minima_ms"] = (min(ps) - min(vs)) * 1000
                item["met"] = item["delta_ms"] <= WARM_START_BUDGET_MS
                # Noise: how far the floor's slowest run is from its fastest.
                item["floor_spread_ms"] = (floor["max"] - floor["min"]) * 1000 if floor["n"] else None
                item["noisy"] = item["floor_spread_ms"] is not None and item["floor_spread_ms"] > WARM_START_BUDGET_MS
            out.append(item)
    for wkey, wl in results["workloads"].items():
        p, s = _median(wl, "pyzap", "build_warm_s"), _median(wl, "shiv", "build_warm_s")
        item = {"target": f"warm-cache build at least {WARM_BUILD_SPEEDUP:g}x faster than shiv", "workload": wkey,
                "setting": "warm cache", "pyzap_s": p, "shiv_s": s}
        if p is None or s is None:
            item["speedup"], item["met"] = None, None
            item["why"] = "no pyzap figure" if p is None else "no shiv figure"
        else:
            item["speedup"] = s / p
            item["met"] = item["speedup"] >= WARM_BUILD_SPEEDUP
        out.append(item)
    return out


def fmt_num(v, unit):
    v = v * SCALE[unit]
    if unit == "ms":
        return f"{v:.1f}" if v < 100 else f"{v:.0f}"
    if unit == "MB":
        return f"{v:.1f}" if v < 100 else f"{v:.0f}"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}"


def cell(fig: dict, unit: str, ratio, notes: list, status: str, reason: str, is_base: bool) -> str:
    if status in ("unsupported", "skipped"):
        return "— " + ("n/a" if status == "unsupported" else "skipped")
    if fig["median"] is None or status == "failed":
        err = (reason if status == "failed" else None) or fig.get("error") or reason or "no result"
        if err not in notes:
            notes.append(err)
        return f"✗ [{notes.index(err) + 1}]"
    s = f"{fmt_num(fig['median'], unit)} ({fmt_num(fig['min'], unit)}–{fmt_num(fig['max'], unit)})"
    if ratio is not None and not is_base:
        s += f" ×{ratio:.2f}"
    return s


def markdown(results: dict) -> str:
    meta = results["meta"]
    base = meta["baseline"]
    lines = [f"# pyzap benchmark ({meta['mode']} run)", ""]
    lines.append(
        f"Median (min–max) over {meta['build_runs']} builds and {meta['start_runs']} start-up runs per tool, "
        f"tools alternating run by run. `×r` = tool / {base} (above 1: {base} is faster or smaller). "
        f"Build times and sizes in s and MB (10^6 bytes), start-up times in ms."
    )
    lines.append("")
    lines.append(f"- Python {meta['python']['version']}; every zip app runs as `<empty venv>/bin/python ARTIFACT ARGS`; "
                 "venvs run their own console script; floor = `<empty venv>/bin/python -S -c pass`.")
    lines.append(f"- Bytecode: builds, first runs and the 'warm start' column ran with bytecode writable "
                 f"(PYTHONDONTWRITEBYTECODE unset); the 'warm start, PYTHONDONTWRITEBYTECODE=1' column with it set "
                 f"(the machine's own setting is PYTHONDONTWRITEBYTECODE={meta['bytecode']['machine_PYTHONDONTWRITEBYTECODE']}).")
    lines.append(f"- Index: {meta['index']['pyzap']}; {meta['index']['requests_served']} requests served, no other network.")
    lines.append(f"- Peak RSS: {meta['peak_memory_method']}.")
    loads = meta["machine"].get("loadavg_1min_after_each_workload") or [meta["machine"]["loadavg_before"][0]]
    lines.append(f"- Machine: {meta['machine']['cpus']} CPUs, 1-min load average {loads[0]:.2f} at the start, "
                 f"{max(loads):.2f} at worst between workloads (this run itself keeps about 1 CPU busy); run took {meta['seconds'] / 60:.1f} min "
                 f"({meta.get('cpu_seconds', 0) / 60:.1f} min of CPU time).")
    for k, v in meta.get("skipped", {}).items():
        lines.append(f"- {k}: {v}.")
    lines.append(f"- pyzap: `{meta.get('pyzap_binary')}` (built {meta.get('pyzap_binary_mtime')}), repository at {meta.get('git')}.")
    lines.append("- Versions: " + "; ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".")
    lines.append("")

    heads = []
    for key, label, unit in FIGURES:
        heads.append(f"{label} ({unit})")
    for wkey, wl in results["workloads"].items():
        w = wl["workload"]
        lines.append(f"## {w['title']}")
        lines.append("")
        lines.append(f"Start-up run: {w['runs']}." + (f" {w['note']}." if w.get("note") else ""))
        if wkey == "large":
            lines.append("")
            lines.append("Set: " + ", ".join(f"`{r}`" for r in w["requirements"]))
        lines.append("")
        lines.append("| tool | " + " | ".join(heads) + " |")
        lines.append("|---|" + "---|" * len(heads))
        notes = []
        for name, t in wl["tools"].items():
            cells = [cell(t["figures"][k], u, wl["ratios"][name][k], notes, t["status"], t["reason"], name == base)
                     for k, _, u in FIGURES]
            label = f"**{name}**" if name == base else name
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        fl = ["", "", "", "", ""] + [cell(wl["floor"][k], "ms", None, notes, "ok", None, True) for k in ("warm_start_s", "warm_start_dwb_s")]
        lines.append("| floor: `python -S -c pass` | " + " | ".join(fl) + " |")
        lines.append("")
        skipped = [f"{n}: {t['reason']}" for n, t in wl["tools"].items() if t["status"] in ("unsupported", "skipped")]
        for i, n in enumerate(notes, 1):
            lines.append(f"[{i}] {n}  ")
        for s in skipped:
            lines.append(f"— {s}  ")
        outs = [f"{n}: `{t['output']}`" for n, t in wl["tools"].items() if t.get("output")]
        if outs:
            lines.append("")
            lines.append("Output of a run: " + "; ".join(outs))
        lines.append("")

    lines.append("## Targets")
    lines.append("")
    lines.append("Warm start: the verdict is the median of the paired differences pyzap − venv (run i of one against run i "
                 f"of the other, which ran back to back). It is marked noisy when the floor itself varied by more than "
                 f"{WARM_START_BUDGET_MS:g} ms over the run: then rerun on a quiet machine, or with more `--start-runs`.")
    lines.append("")
    lines.append("| target | workload | setting | figures | verdict |")
    lines.append("|---|---|---|---|---|")
    for t in results["targets"]:
        if "delta_ms" in t:
            if t["delta_ms"] is None:
                figs = f"pyzap {_ms(t['pyzap_ms'])}, venv {_ms(t['venv_ms'])}"
            else:
                figs = (f"pyzap {_ms(t['pyzap_ms'])}, venv {_ms(t['venv_ms'])}; paired Δ {t['delta_ms']:+.1f} ms "
                        f"({t['delta_min_ms']:+.1f} to {t['delta_max_ms']:+.1f}), Δ of minima {t['delta_of_minima_ms']:+.1f} ms; "
                        f"floor {_ms(t['floor_ms'])}")
        else:
            figs = (f"shiv {t['shiv_s']:.2f} s / pyzap {t['pyzap_s']:.2f} s = {t['speedup']:.1f}×" if t["speedup"] is not None
                    else f"pyzap {_s(t['pyzap_s'])}, shiv {_s(t['shiv_s'])}")
        verdict = "met" if t["met"] else ("**not met**" if t["met"] is False else f"unknown ({t['why']})")
        if t.get("noisy"):
            verdict += f" (noisy: floor varied by {t['floor_spread_ms']:.1f} ms)"
        lines.append(f"| {t['target']} | {t['workload']} | {t['setting']} | {figs} | {verdict} |")
    lines.append("")
    return "\n".join(lines)


def _ms(v):
    return "—" if v is None else f"{v:.1f} ms"


def _s(v):
    return "—" if v is None else f"{v:.2f} s"


def _ratio_label(v, _pos):
    if v >= 1:
        return f"{v:g}×"
    return f"{v:.2g}×"


def chart(results: dict, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    base = results["meta"]["baseline"]
    wls = list(results["workloads"])
    tools = [n for n in next(iter(results["workloads"].values()))["tools"] if n != base] if wls else []
    colors = plt.get_cmap("tab10")
    fig, axes = plt.subplots(4, 2, figsize=(15, 19))
    axes = axes.flatten()
    width = 0.8 / max(1, len(tools))
    for ax, (key, label, unit) in zip(axes, FIGURES):
        ax.set_title(label, fontsize=12)
        ax.set_yscale("log")
        ax.axhline(1.0, color="black", linewidth=1.2)
        vals = []
        for ti, name in enumerate(tools):
            for wi, wkey in enumerate(wls):
                wl = results["workloads"][wkey]
                x = wi - 0.4 + width * (ti + 0.5)
                r = wl["ratios"][name][key]
                t = wl["tools"][name]
                if r is not None:
                    vals.append(r)
                    ax.bar(x, r, width * 0.9, color=colors(ti), label=name if wi == 0 else None, bottom=0)
                    ax.text(x, r, f"{r:.0f}" if r >= 10 else f"{r:.2g}", ha="center", va="bottom" if r >= 1 else "top", fontsize=7, rotation=90)
                else:
                    if t["status"] == "skipped":
                        mark = "skipped"
                    elif t["status"] == "unsupported":
                        mark = "n/a"
                    elif t["figures"][key]["median"] is None or t["status"] == "failed":
                        mark = "FAILED"
                    else:
                        mark = f"no {base}"  # tool measured, baseline missing
                    ax.text(x, 1.08, mark, ha="center", va="bottom", fontsize=7, rotation=90, color=colors(ti),
                            fontweight="bold")
                    ax.bar(x, 0, width * 0.9, color=colors(ti), label=name if wi == 0 else None)
        lo = min(vals + [0.5]) / 1.8
        hi = max(vals + [2.0]) * 2.2
        ax.set_ylim(lo, hi)
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(_ratio_label))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xticks(range(len(wls)))
        ticks = []
        for w in wls:
            b = results["workloads"][w]["tools"].get(base, {}).get("figures", {}).get(key, {}).get("median")
            ticks.append(results["workloads"][w]["workload"]["key"] + (f"\n{base}: {fmt_num(b, unit)} {unit}" if b is not None else f"\n{base}: no result"))
        ax.set_xticklabels(ticks, fontsize=9)
        ax.set_ylabel(f"tool / {base}", fontsize=10)
        ax.grid(axis="y", which="major", alpha=0.3)
    legend_ax = axes[len(FIGURES)]
    legend_ax.axis("off")
    handles, labels = axes[0].get_legend_handles_labels()
    legend_ax.legend(handles, labels, loc="upper left", fontsize=12, title=f"ratio = tool median / {base} median", title_fontsize=12)
    missing = [w for w in wls if results["workloads"][w]["tools"].get(base, {}).get("status") != "ok"]
    txt = (f"Above the line: {base} is faster / smaller.\n"
           "FAILED / n/a / skipped: no bar (reasons in results.md);\n"
           f"'no {base}': the tool has a figure, {base} has none.\n"
           f"Under each workload: {base}'s own median.\n"
           f"Log scale. {results['meta']['mode']} run, {results['meta']['build_runs']} builds / "
           f"{results['meta']['start_runs']} start-up runs per tool.")
    if missing:
        txt += f"\n{base} has no result on: {', '.join(missing)}"
    legend_ax.text(0.0, 0.35, txt, fontsize=11, va="top", transform=legend_ax.transAxes)
    fig.suptitle(f"pyzap benchmark: peers relative to {base}", fontsize=15)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_all(results: dict, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    add_ratios(results)
    results["targets"] = check_targets(results)
    md = markdown(results)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out / "results.md").write_text(md)
    try:
        chart(results, out / "ratios.png")
    except Exception as e:  # the chart must never cost the numbers
        md += f"\n(chart failed: {e})\n"
    return md
