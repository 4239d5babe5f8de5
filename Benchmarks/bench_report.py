"""Turns a bench TSV (bench_runner.py) into the table, the ratios, the target checks and the plot.

    python3 Benchmarks/bench_report.py Benchmarks/results/latest.tsv [--markdown OUT.md] [--plot OUT.png]
        [--readme Benchmarks/README.md]
    python3 Benchmarks/bench_report.py Benchmarks/results/2*.tsv --max-others-cpu 10

Several TSVs are pooled (each file's runs stay separate runs). `--max-others-cpu PCT` keeps only the
measurements during which the rest of the machine used at most PCT % of a core: the quiet ones.

Every number in the table is the median over the runs in the TSV. Ratios are ours ÷ peer, taken
within each run (both measured minutes apart on the same machine) and then summarised as the median
with the min–max spread across runs. The plot needs matplotlib (the project venv); without it the
report says so and skips the plot.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections import defaultdict
from pathlib import Path

CLIENT_ORDER = ("h2load", "cpp", "grpc-swift", "httpx", "aiohttp", "ours", "ours-loop")
# Our two ways to run: callers on Swift's global executor, and on the client's loop thread.
OURS = ("ours", "ours-loop")
SCENARIO_ORDER = ("unary", "concurrent", "batch", "submit", "submit-coalesced", "cached", "flood", "concurrent-tls",
                  "cold-start-tls",
                  "rest-get", "rest-get-h2", "rest-get-1")
SCENARIO_LABEL = {
    "unary": "(a) unary, 1 in flight",
    "concurrent": "(b) 64 in flight",
    "batch": "(c) batch 100×200 B, 8 in flight",
    "submit": "(d) submit, 64 in flight",
    "submit-coalesced": "(d′) submit, coalesced (10 µs), 64 in flight",
    "cached": "(e) cached lookups",
    "flood": "(g) 10,000 in flight, 4 connections, 30 s",
    "concurrent-tls": "(f) 64 in flight, TLS",
    "cold-start-tls": "(h) cold start to 1st answer, TLS",
    "rest-get": "(r1) REST GET, HTTP/1.1, 16 in flight",
    "rest-get-h2": "(r2) REST GET, h2 (TLS), 16 in flight",
    "rest-get-1": "(r3) REST GET, HTTP/1.1, 1 in flight",
}
PEERS = ("h2load", "cpp", "grpc-swift", "httpx", "aiohttp")


def load(path: Path, tag: str = "") -> list[dict]:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        row["run"] = tag + row["run"]
    return rows


def quiet(rows: list[dict], max_others_cpu: float) -> list[dict]:
    """The rows measured while everything else on the machine used at most `max_others_cpu` %."""
    kept = []
    for row in rows:
        others = number(row.get("other_cpu_pct", ""))
        if others is not None and others <= max_others_cpu:
            kept.append(row)
    return kept


def number(value: str) -> float | None:
    return float(value) if value not in ("", None) else None


def rate_of(row: dict) -> float:
    """The scenario's headline rate: events/s for the submit scenarios, calls/s otherwise."""
    return float(row["events_per_s"] if row["scenario"] in ("batch", "submit", "submit-coalesced") else row["calls_per_s"])


def median_of(rows: list[dict], key) -> float | None:
    values = [value for value in (key(row) for row in rows) if value is not None]
    return statistics.median(values) if values else None


def grouped(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["scenario"], row["client"])].append(row)
    return groups


def ordered_keys(groups: dict) -> list[tuple[str, str]]:
    return sorted(groups, key=lambda key: (SCENARIO_ORDER.index(key[0]), CLIENT_ORDER.index(key[1])))


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100_000:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


# --------------------------------------------------------------------------- table

TABLE_HEADER = ("scenario", "client", "rate/s", "unit", "p50 µs", "p99 µs", "client CPU µs/call",
                "ctx switches/call", "peak RSS MiB", "RSS growth KiB", "server CPU %", "server RPCs/call", "others' CPU %", "runs", "note")


def table_rows(rows: list[dict]) -> list[tuple[str, ...]]:
    groups = grouped(rows)
    out = []
    for scenario, client in ordered_keys(groups):
        group = groups[(scenario, client)]
        unit = {"batch": "events", "submit": "events", "submit-coalesced": "events", "cached": "lookups",
                "cold-start-tls": "starts"}.get(scenario, "calls")
        rss = median_of(group, lambda row: number(row["peak_rss_kib"]))
        growth = median_of(group, lambda row: number(row["rss_growth_kib"]))
        notes = sorted({row["note"] for row in group if row["note"]})
        out.append((
            SCENARIO_LABEL[scenario], client, fmt(median_of(group, rate_of), 0), unit,
            fmt(median_of(group, lambda row: number(row["p50_us"])), 1),
            fmt(median_of(group, lambda row: number(row["p99_us"])), 1),
            fmt(median_of(group, lambda row: number(row["cpu_us_per_call"])), 2),
            fmt(median_of(group, lambda row: number(row.get("ctx_switches_per_call", ""))), 2),
            fmt(rss / 1024 if rss is not None else None, 1),
            fmt(growth, 0),
            fmt(median_of(group, lambda row: number(row["server_cpu_pct"])), 0),
            fmt(median_of(group, lambda row: number(row["server_rpcs_per_call"])), 2),
            fmt(median_of(group, lambda row: number(row.get("other_cpu_pct", ""))), 0),
            str(len(group)), " ".join(notes),
        ))
    return out


def text_table(header: tuple[str, ...], body: list[tuple[str, ...]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *body)]
    numeric = [index >= 2 and index not in (3, len(header) - 1) for index in range(len(header))]
    def line(cells):
        return "  ".join(cell.rjust(width) if right else cell.ljust(width)
                         for cell, width, right in zip(cells, widths, numeric)).rstrip()
    return "\n".join([line(header), line(tuple("-" * width for width in widths))] + [line(row) for row in body])


def markdown_table(header: tuple[str, ...], body: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body]
    return "\n".join(lines)


# --------------------------------------------------------------------------- ratios

METRICS = (
    ("rate", "rate (higher is better)", rate_of),
    ("p50", "p50 (lower is better)", lambda row: number(row["p50_us"])),
    ("p99", "p99 (lower is better)", lambda row: number(row["p99_us"])),
    ("cpu", "client CPU/call (lower is better)", lambda row: number(row["cpu_us_per_call"])),
)


def per_run(rows: list[dict]) -> dict[tuple[str, str, str], dict]:
    return {(row["run"], row["scenario"], row["client"]): row for row in rows}


def ratio_summary(rows: list[dict], scenario: str, peer: str, metric,
                  mine: str = "ours") -> tuple[float, float, float, int] | None:
    """Median, min and max over runs of mine (ours or ours-loop) ÷ peer for one metric."""
    index = per_run(rows)
    ratios = []
    for run in sorted({row["run"] for row in rows}):
        ours, theirs = index.get((run, scenario, mine)), index.get((run, scenario, peer))
        if ours and theirs:
            a, b = metric(ours), metric(theirs)
            if a is not None and b:
                ratios.append(a / b)
    if not ratios:
        return None
    return statistics.median(ratios), min(ratios), max(ratios), len(ratios)


def ratio_text(summary) -> str:
    if summary is None:
        return "–"
    median, low, high, count = summary
    return f"{median:.2f} [{low:.2f}–{high:.2f}]" if count > 1 else f"{median:.2f}"


def ratio_rows(rows: list[dict]) -> list[tuple[str, ...]]:
    out = []
    scenarios = [s for s in SCENARIO_ORDER if any(row["scenario"] == s for row in rows)]
    for scenario in scenarios:
        for mine in OURS:
            for peer in PEERS:
                if not any(row["scenario"] == scenario and row["client"] == peer for row in rows):
                    continue
                summary = [ratio_summary(rows, scenario, peer, metric, mine) for _, _, metric in METRICS]
                if any(summary):
                    out.append((SCENARIO_LABEL[scenario], f"{mine} ÷ {peer}", *map(ratio_text, summary)))
    return out


RATIO_HEADER = ("scenario", "ratio", "rate", "p50", "p99", "client CPU/call")


# --------------------------------------------------------------------------- targets

def targets(rows: list[dict]) -> list[tuple[str, str, str, str]]:
    """(target, limit, measured, verdict) for every target (issue 3's, issue 16's, then the REST issue's) the TSV
    has data for."""
    out = []

    def check(name: str, limit: str, summary, passes) -> None:
        if summary is None:
            return
        verdict = "met" if passes(summary[0]) else "MISSED"
        out.append((name, limit, ratio_text(summary), verdict))

    cpu = METRICS[3][2]
    check("(b) client CPU/call vs h2load", "≤ 1.5×", ratio_summary(rows, "concurrent", "h2load", cpu), lambda r: r <= 1.5)
    check("(b) client CPU/call vs C++ gRPC", "< 1×", ratio_summary(rows, "concurrent", "cpp", cpu), lambda r: r < 1.0)
    check("(b) calls/s vs C++ gRPC", "≥ 0.9×", ratio_summary(rows, "concurrent", "cpp", rate_of), lambda r: r >= 0.9)
    check("(b) calls/s vs grpc-swift-2", "≥ 5×", ratio_summary(rows, "concurrent", "grpc-swift", rate_of), lambda r: r >= 5)
    check("(a) p50 vs h2load", "≤ 1.3×", ratio_summary(rows, "unary", "h2load", METRICS[1][2]), lambda r: r <= 1.3)
    check("(c) events/s vs C++ gRPC", "≥ 0.9×", ratio_summary(rows, "batch", "cpp", rate_of), lambda r: r >= 0.9)

    # Issue 16's, for both ways of running ours.
    for mine in OURS:
        tag = f" ({mine})"
        p50 = METRICS[1][2]
        check("(a) p50 vs h2load" + tag, "≤ 1.1×", ratio_summary(rows, "unary", "h2load", p50, mine), lambda r: r <= 1.1)
        check("(a) p50 vs C++ gRPC" + tag, "≤ 1×", ratio_summary(rows, "unary", "cpp", p50, mine), lambda r: r <= 1.0)
        check("(b) client CPU/call vs h2load" + tag, "≤ 1×", ratio_summary(rows, "concurrent", "h2load", cpu, mine),
              lambda r: r <= 1.0)
        check("(c) events/s vs C++ gRPC" + tag, "≥ 1×", ratio_summary(rows, "batch", "cpp", rate_of, mine),
              lambda r: r >= 1.0)
        check("(c) client CPU/call vs C++ gRPC" + tag, "≤ 1×", ratio_summary(rows, "batch", "cpp", cpu, mine),
              lambda r: r <= 1.0)
        check("(f) TLS client CPU/call vs C++ gRPC" + tag, "≤ 1×",
              ratio_summary(rows, "concurrent-tls", "cpp", cpu, mine), lambda r: r <= 1.0)
    # (h): the p50 column of the cold start is the median launch's wall time.
    check("(h) TLS cold start vs C++ gRPC (ours)", "≤ 1×", ratio_summary(rows, "cold-start-tls", "cpp", METRICS[1][2]),
          lambda r: r <= 1.0)

    index = per_run(rows)
    runs = sorted({row["run"] for row in rows})
    batching = [rate_of(index[(run, "batch", "ours")]) / rate_of(index[(run, "submit", "ours")])
                for run in runs if (run, "batch", "ours") in index and (run, "submit", "ours") in index
                and rate_of(index[(run, "submit", "ours")])]
    if batching:
        summary = (statistics.median(batching), min(batching), max(batching), len(batching))
        check("(c) ÷ (d) events/s, ours", "≥ 10×", summary, lambda r: r >= 10)
    # (d′): single submits with coalescing on against the same client's (d) in the same run.
    for mine in OURS:
        coalescing = [rate_of(index[(run, "submit-coalesced", mine)]) / rate_of(index[(run, "submit", mine)])
                      for run in runs if (run, "submit-coalesced", mine) in index and (run, "submit", mine) in index
                      and rate_of(index[(run, "submit", mine)])]
        if coalescing:
            summary = (statistics.median(coalescing), min(coalescing), max(coalescing), len(coalescing))
            check(f"(d′) ÷ (d) events/s ({mine})", "≥ 5×", summary, lambda r: r >= 5)

    def absolute(name: str, limit: str, scenario: str, key, passes, unit: str) -> None:
        values = [key(row) for row in rows if row["scenario"] == scenario and row["client"] == "ours"]
        values = [value for value in values if value is not None]
        if not values:
            return
        median = statistics.median(values)
        spread = f" [{min(values):,.1f}–{max(values):,.1f}]" if len(values) > 1 else ""
        out.append((name, limit, f"{median:,.1f}{spread} {unit}", "met" if passes(median) else "MISSED"))

    absolute("(e) cached lookups/s", "≥ 5,000,000", "cached", rate_of, lambda v: v >= 5_000_000, "/s")
    absolute("(b) peak RSS of ours", "≤ 64 MiB", "concurrent",
             lambda row: number(row["peak_rss_kib"]) / 1024, lambda v: v <= 64, "MiB")

    absolute("(g) failed calls of ours", "0", "flood", lambda row: number(row["errors"]), lambda v: v == 0, "")
    absolute("(g) peak RSS of ours", "≤ 64 MiB", "flood",
             lambda row: number(row["peak_rss_kib"]) / 1024, lambda v: v <= 64, "MiB")
    absolute("(g) RSS growth after 1 s", "≤ 1 MiB", "flood",
             lambda row: number(row["rss_growth_kib"]) / 1024 if row["rss_growth_kib"] != "" else None,
             lambda v: v <= 1, "MiB")

    # REST ((r1) and (r2)): the Python conductor saturates long before a fast client does, so calls/s
    # cannot rank the clients; client CPU per call can.
    for mine in OURS:
        for scenario, name in (("rest-get", "(r1) REST HTTP/1.1"), ("rest-get-h2", "(r2) REST h2")):
            tag = f" ({mine})"
            check(f"{name} client CPU/call vs h2load{tag}", "≤ 2×",
                  ratio_summary(rows, scenario, "h2load", cpu, mine), lambda r: r <= 2)
            check(f"{name} client CPU/call vs httpx{tag}", "≤ 0.1×",
                  ratio_summary(rows, scenario, "httpx", cpu, mine), lambda r: r <= 0.1)
    return out


TARGET_HEADER = ("target", "limit", "measured (median [min–max])", "verdict")


# --------------------------------------------------------------------------- plot

def plot(rows: list[dict], path: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.stderr.write("matplotlib is not installed: no plot (install it in the project venv)\n")
        return False
    groups = grouped(rows)
    scenarios = [s for s in SCENARIO_ORDER if any(key[0] == s for key in groups)]
    clients = [c for c in CLIENT_ORDER if any(key[1] == c for key in groups)]
    figure, axes = plt.subplots(3, 1, figsize=(11, 12), constrained_layout=True)
    width = 0.8 / max(len(clients), 1)
    for axis, title, key in (
        (axes[0], "throughput (calls/s; events/s for (c) and (d)) — higher is better", rate_of),
        (axes[1], "p99 latency, µs — lower is better", lambda row: number(row["p99_us"])),
        # What ranks the clients where the server saturates first ((b) and the REST rows).
        (axes[2], "client CPU per call, µs — lower is better", lambda row: number(row["cpu_us_per_call"])),
    ):
        for offset, client in enumerate(clients):
            xs, heights = [], []
            for position, scenario in enumerate(scenarios):
                value = median_of(groups.get((scenario, client), []), key)
                if value:
                    xs.append(position + (offset - (len(clients) - 1) / 2) * width)
                    heights.append(value)
            bars = axis.bar(xs, heights, width, label=client)
            axis.bar_label(bars, labels=[f"{h:,.0f}" if h >= 10 else f"{h:.2f}" for h in heights],
                           fontsize=7, rotation=90, padding=2)
        axis.set_yscale("log")
        axis.set_title(title)
        axis.set_xticks(range(len(scenarios)), [SCENARIO_LABEL[s] for s in scenarios], fontsize=8)
        axis.margins(y=0.25)
        axis.grid(axis="y", which="major", alpha=0.3)
    axes[0].legend(ncols=len(clients), loc="upper left")
    runs = len({row["run"] for row in rows})
    figure.suptitle(f"conductor clients on loopback, server and client on separate cores (median of {runs} run(s))")
    figure.savefig(path, dpi=110)
    return True


# --------------------------------------------------------------------------- main

def report_text(rows: list[dict]) -> str:
    parts = [text_table(TABLE_HEADER, table_rows(rows)), "",
             "ours ÷ peer, median [min–max] over runs:", text_table(RATIO_HEADER, ratio_rows(rows))]
    checks = targets(rows)
    if checks:
        parts += ["", "targets:", text_table(TARGET_HEADER, checks)]
    return "\n".join(parts)


def report_markdown(rows: list[dict], source: str) -> str:
    parts = [f"Source: `{source}`. Medians over runs; ratios are ours ÷ peer, median [min–max] over runs.", "",
             markdown_table(TABLE_HEADER, table_rows(rows)), "", markdown_table(RATIO_HEADER, ratio_rows(rows))]
    checks = targets(rows)
    if checks:
        parts += ["", markdown_table(TARGET_HEADER, checks)]
    return "\n".join(parts) + "\n"


README_START = "<!-- latest-results:start -->"
README_END = "<!-- latest-results:end -->"


def splice_into_readme(readme: Path, markdown: str) -> None:
    """Replaces what stands between the README's latest-results markers with `markdown`."""
    text = readme.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        sys.stderr.write(f"{readme} has no {README_START} … {README_END} markers: not updated\n")
        return
    readme.write_text(text[:start + len(README_START)] + "\n" + markdown + text[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tsv", type=Path, nargs="+")
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown here")
    parser.add_argument("--plot", type=Path, help="write the PNG plot here")
    parser.add_argument("--readme", type=Path, help="put the Markdown tables between this file's latest-results markers")
    parser.add_argument("--max-others-cpu", type=float, help="keep only measurements with others' CPU %% at most this")
    args = parser.parse_args(argv)
    rows = []
    for path in args.tsv:
        rows += load(path, tag=f"{path.stem}/" if len(args.tsv) > 1 else "")
    if args.max_others_cpu is not None:
        rows = quiet(rows, args.max_others_cpu)
    if not rows:
        sys.stderr.write("no rows to report\n")
        return 1
    print(report_text(rows))
    markdown = report_markdown(rows, ", ".join(path.name for path in args.tsv))
    if args.markdown:
        args.markdown.write_text(markdown)
    if args.readme:
        splice_into_readme(args.readme, markdown)
    if args.plot and plot(rows, args.plot):
        print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
