#!/usr/bin/env python3
"""Draws docs/benchmarks/*.svg from docs/benchmarks.json (issue 21, item 7).

    python3 loadgen/plot.py [BENCHMARKS_JSON] [OUT_DIR]

Standard library only. Three plots, before (label issue21-before) against
after (issue21-after), SQLite and Postgres: latency percentiles against the
offered load, messages/s and server CPU-µs per message by scenario, and server
memory per idle socket against the socket count (with the later idle-socket
work, label sockets-after).
"""

import json
import math
import sys
from pathlib import Path

BEFORE, AFTER = "issue21-before", "issue21-after"
# The idle-socket work that came after (session as its own task, 512 B reads).
SOCKETS = "sockets-after"
COLOURS = {
    (BEFORE, "sqlite"): "#c0392b",
    (BEFORE, "postgres"): "#e67e22",
    (AFTER, "sqlite"): "#2471a3",
    (AFTER, "postgres"): "#17a589",
}
W, H, LEFT, RIGHT, TOP, BOTTOM = 720, 420, 70, 190, 40, 50


def runs(path):
    """The runs of both labels, keyed by (label, backend, scenario, variant)."""
    data = json.loads(Path(path).read_text())
    return {
        (r["label"], r["backend"], r["scenario"], r.get("variant", "")): r["figures"]
        for r in data["runs"]
        if r["label"] in (BEFORE, AFTER, SOCKETS)
    }


def svg(title, body, legend):
    """A whole SVG document around `body` with `title` and a `legend`."""
    items = "".join(
        f'<rect x="{W - RIGHT + 15}" y="{TOP + 18 * n}" width="12" height="12" fill="{c}"/>'
        f'<text x="{W - RIGHT + 32}" y="{TOP + 18 * n + 11}">{name}</text>'
        for n, (name, c) in enumerate(legend)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
        f'font-family="sans-serif" font-size="12">'
        f'<rect width="{W}" height="{H}" fill="white"/>'
        f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{title}</text>'
        f"{body}{items}</svg>\n"
    )


def log_axis(lo, hi, to_px, vertical, label):
    """Grid lines and labels of a log axis from `lo` to `hi` (powers of 10)."""
    out = []
    power = math.floor(math.log10(lo))
    while 10**power <= hi * 1.0001:
        value = 10**power
        if value >= lo * 0.9999:
            p = to_px(value)
            text = f"{value:g}"
            if vertical:
                out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{p}" y2="{p}" stroke="#ddd"/>')
                out.append(f'<text x="{LEFT - 6}" y="{p + 4}" text-anchor="end">{text}</text>')
            else:
                out.append(f'<line x1="{p}" x2="{p}" y1="{TOP}" y2="{H - BOTTOM}" stroke="#ddd"/>')
                out.append(f'<text x="{p}" y="{H - BOTTOM + 16}" text-anchor="middle">{text}</text>')
        power += 1
    if vertical:
        out.append(
            f'<text transform="translate(16,{(TOP + H - BOTTOM) / 2}) rotate(-90)" '
            f'text-anchor="middle">{label}</text>'
        )
    else:
        out.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 10}" text-anchor="middle">{label}</text>')
    return "".join(out)


def scale(lo, hi, a, b):
    """A log scale from [lo, hi] onto pixels [a, b]."""
    span = math.log10(hi) - math.log10(lo)
    return lambda v: a + (math.log10(max(v, lo)) - math.log10(lo)) / span * (b - a)


def latency(r):
    """p50 and p99 (ms, log) against the offered rate (log), per label and backend."""
    x = scale(500, 20_000, LEFT, W - RIGHT)
    y = scale(0.1, 20_000, H - BOTTOM, TOP)
    body = [log_axis(500, 20_000, x, False, "offered messages/s"), log_axis(0.1, 20_000, y, True, "latency, ms (log)")]
    legend = []
    for (label, backend), colour in COLOURS.items():
        points = sorted(
            (int(v.split("=")[1]), f)
            for (l, b, s, v), f in r.items()
            if (l, b, s) == (label, backend, "latency")
        )
        for key, dash in (("p50_ms", "4 3"), ("p99_ms", "")):
            line = " ".join(f"{x(rate):.1f},{y(f[key]):.1f}" for rate, f in points)
            body.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>')
            body += [f'<circle cx="{x(rate):.1f}" cy="{y(f[key]):.1f}" r="3" fill="{colour}"/>' for rate, f in points]
        legend.append((f"{backend} {label[8:]}", colour))
    legend.append(("solid p99, dashed p50", "#fff"))
    return svg("Latency against offered load (issue 21)", "".join(body), legend)


def bars(r, title, label_y, pick, lo, hi):
    """Grouped bars (log) of `pick(figures)` per scenario, label and backend."""
    scenarios = [
        ("throughput", "", "throughput"),
        ("drain", "pairs=50", "offline drain"),
        ("fanout", "", "fan-out"),
    ]
    y = scale(lo, hi, H - BOTTOM, TOP)
    body = [log_axis(lo, hi, y, True, label_y)]
    group = (W - RIGHT - LEFT) / len(scenarios)
    for n, (scenario, variant, name) in enumerate(scenarios):
        x0 = LEFT + n * group + 10
        body.append(f'<text x="{x0 + (group - 20) / 2}" y="{H - BOTTOM + 16}" text-anchor="middle">{name}</text>')
        for m, ((label, backend), colour) in enumerate(COLOURS.items()):
            value = pick(r.get((label, backend, scenario, variant)))
            if value is None:
                continue
            width = (group - 20) / len(COLOURS)
            top = y(value)
            body.append(
                f'<rect x="{x0 + m * width:.1f}" y="{top:.1f}" width="{width - 4:.1f}" '
                f'height="{H - BOTTOM - top:.1f}" fill="{colour}"/>'
                f'<text x="{x0 + m * width + (width - 4) / 2:.1f}" y="{top - 4:.1f}" '
                f'text-anchor="middle" font-size="10">{value:,.0f}</text>'
            )
    legend = [(f"{b} {l[8:]}", c) for (l, b), c in COLOURS.items()]
    return svg(title, "".join(body), legend)


def rate(f):
    """Messages (or deliveries) per second of one run's figures."""
    if f is None:
        return None
    return f.get("delivered_per_sec") or f.get("drained_per_sec") or f.get("deliveries_per_sec")


def cpu(f):
    """Server CPU-µs per message of one run's figures."""
    if f is None:
        return None
    cost = f.get("cost") or f.get("drain_cost") or {}
    return cost.get("server_cpu_us_per_msg")


def memory(r):
    """Server bytes per idle socket against the socket count."""
    x = scale(5_000, 40_000, LEFT, W - RIGHT)
    body = [log_axis(5_000, 40_000, x, False, "idle sockets")]
    lo, hi = 0, 10 * 1024
    y = lambda v: H - BOTTOM - (v - lo) / (hi - lo) * (H - BOTTOM - TOP)
    for v in range(0, hi + 1, 2 * 1024):
        body.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(v)}" y2="{y(v)}" stroke="#ddd"/>')
        body.append(f'<text x="{LEFT - 6}" y="{y(v) + 4}" text-anchor="end">{v // 1024}</text>')
    body.append(f'<text transform="translate(16,{(TOP + H - BOTTOM) / 2}) rotate(-90)" text-anchor="middle">KiB per socket</text>')
    body.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(4096)}" y2="{y(4096)}" stroke="black" stroke-dasharray="6 4"/>')
    body.append(f'<text x="{W - RIGHT - 4}" y="{y(4096) - 5}" text-anchor="end">target 4 KiB</text>')
    series = {**COLOURS, (SOCKETS, "sqlite"): "#6c3483", (SOCKETS, "postgres"): "#a569bd"}
    for (label, backend), colour in series.items():
        points = sorted(
            (int(v.split("=")[1]), f["server_bytes_per_connection"])
            for (l, b, s, v), f in r.items()
            if (l, b, s) == (label, backend, "idle")
        )
        line = " ".join(f"{x(n):.1f},{y(v):.1f}" for n, v in points)
        body.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body += [f'<circle cx="{x(n):.1f}" cy="{y(v):.1f}" r="4" fill="{colour}"/>' for n, v in points]
    names = {BEFORE: "before", AFTER: "after", SOCKETS: "idle fix"}
    legend = [(f"{b} {names[l]}", c) for (l, b), c in series.items()]
    return svg("Server memory per idle socket (issue 21)", "".join(body), legend)


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else "docs/benchmarks.json"
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "docs/benchmarks")
    out.mkdir(parents=True, exist_ok=True)
    r = runs(source)
    plots = {
        "latency.svg": latency(r),
        "rate.svg": bars(r, "Messages (deliveries) per second (issue 21)", "per second (log)", rate, 1_000, 300_000),
        "cpu.svg": bars(r, "Server CPU-µs per message (issue 21)", "CPU-µs per message (log)", cpu, 1, 1_000),
        "memory.svg": memory(r),
    }
    for name, text in plots.items():
        (out / name).write_text(text)
        print(out / name)


if __name__ == "__main__":
    main()
