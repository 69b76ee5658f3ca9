"""Turn raw measurements into rows (ours, floor, ratio, target, pass/fail) and write the results files.

``results.json`` holds this run. ``results.md`` holds this run's table and a
History section: what each change did to the figures, before → after (kept
by hand in ``bench/changes.md``, read anew each run), and a table of every
run, carried over from the previous file with one line appended, never
rewritten.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.procs import ROOT
from bench.stats import ratio

HISTORY = "## History"
CHANGES = ROOT / "bench" / "changes.md"
RUNS = "### Every full run"
HISTORY_HEAD = (
    "| when (UTC) | commit | mode | wall | pass | rtt p50 ms (×floor) | events/s (×floor) "
    "| KiB/conn (×floor) | click ms (×bare) | 10→5k p50 | table B | runtime B |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


@dataclass
class Row:
    """One line of the results table."""

    key: str
    name: str
    ours: str
    floor: str
    ratio: float | None
    target: str
    ok: bool | None  # None: report only
    note: str = ""

    @property
    def mark(self) -> str:
        return {True: "✅ pass", False: "❌ FAIL", None: "— report"}[self.ok]


def _f(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _rows_latency(r: dict[str, Any]) -> list[Row]:
    lat = r["latency"]
    ours, chain, echo = lat["ours"], lat["chain"], lat["echo"]
    rtt_ratio = ratio(ours["rtt"]["p50_ms"], chain["rtt"]["p50_ms"])
    thr_ratio = ratio(ours["throughput_per_s"], chain["throughput_per_s"])
    # The counter's repeated inc is prediction's best case: show the graded figure without it too.
    off, wrong = lat.get("unpredicted"), lat.get("mispredicted")
    rtt_off = "".join(
        f"<br>diagnostic p50: {label} {_f(side['rtt']['p50_ms'], 3)} ms "
        f"({_x(ratio(side['rtt']['p50_ms'], chain['rtt']['p50_ms']))})"
        for label, side in (("NOWAKI_PREDICT=off", off), ("every prediction wrong", wrong)) if side)
    thr_off = "".join(
        f"<br>diagnostic: {label} {_f(side['throughput_per_s'], 0)}/s "
        f"({_x(ratio(side['throughput_per_s'], chain['throughput_per_s']))})"
        for label, side in (("NOWAKI_PREDICT=off", off), ("every prediction wrong", wrong))
        if side and side.get("throughput_completed"))
    return [
        Row("rtt", "event→patch round trip (counter, 1 conn, sequential)",
            f"p50 {_f(ours['rtt']['p50_ms'], 3)} ms · p99 {_f(ours['rtt']['p99_ms'], 3)} ms "
            f"(n={ours['rtt']['n']}){rtt_off}",
            f"chain p50 {_f(chain['rtt']['p50_ms'], 3)} · p99 {_f(chain['rtt']['p99_ms'], 3)} ms; "
            f"echo p50 {_f(echo['rtt']['p50_ms'], 3)} · p99 {_f(echo['rtt']['p99_ms'], 3)} ms",
            rtt_ratio, "p50 ≤ 1.3× chain", rtt_ratio is not None and rtt_ratio <= 1.3),
        Row("throughput", f"throughput ({ours['throughput_clients']} conns, closed loop, default pool)",
            f"{_f(ours['throughput_per_s'], 0)} events/s{thr_off}",
            f"chain {_f(chain['throughput_per_s'], 0)} msgs/s; echo {_f(echo['throughput_per_s'], 0)}",
            thr_ratio, "≥ 0.7× chain", thr_ratio is not None and thr_ratio >= 0.7),
    ]


def _rows_idle(r: dict[str, Any]) -> list[Row]:
    ours, floor = r["idle"]["ours"], r["idle"]["floor"]
    idle_ratio = ratio(ours["kib_per_conn"], floor["kib_per_conn"])
    scale = r["idle"]["scaling"]
    scale_ratio = ratio(scale["big"]["p50_ms"], scale["small"]["p50_ms"])
    return [
        Row("idle", f"idle live connection (RSS delta / N, N={ours['conns']:,}, heartbeats on)",
            f"{_f(ours['kib_per_conn'], 1)} KiB/conn",
            f"bare trio-websocket {_f(floor['kib_per_conn'], 1)} KiB/conn (N={floor['conns']:,})",
            idle_ratio, "≤ 1.5× floor", idle_ratio is not None and idle_ratio <= 1.5,
            f"ramp: {_f(ours['open_cpu_ms_per_conn'], 2)} ms front CPU per connect+join, "
            f"{ours['conns'] / max(ours['open_seconds'], 1e-9):,.0f}/s "
            f"(presence interval {ours.get('presence_interval', 0.25):g} s)"),
        Row("scaling", f"round trip p50, {scale['small_held']} vs {scale['big_held']:,} idle joined held",
            f"{_f(scale['big']['p50_ms'], 3)} ms at {scale['big_held']:,} "
            f"(p99 {_f(scale['big']['p99_ms'], 3)})",
            f"{_f(scale['small']['p50_ms'], 3)} ms at {scale['small_held']} "
            f"(p99 {_f(scale['small']['p99_ms'], 3)})",
            scale_ratio, "≤ 1.2×", scale_ratio is not None and scale_ratio <= 1.2),
    ]


def _rows_churn(r: dict[str, Any]) -> list[Row]:
    ours, floor = r["churn"]["ours"], r["churn"]["floor"]
    linear = (ours["presence_messages"] <= ours["message_bound"]
              and ours["presence_per_base_max"] <= ours["rounds_bound"])
    return [
        Row("churn", f"presence churn ({ours['joins']:,} joins + {ours['leaves']:,} leaves, "
                     f"{ours['connected']:,} connected)",
            f"{_f(ours['cpu_s'], 2)} s CPU ({_f(ours['cpu_ms_per_join_leave'], 2)} ms/join+leave); "
            f"{ours['presence_messages']:,} presence msgs (≤ {ours['presence_per_base_max']} per client)",
            f"bare connect+close {_f(floor['cpu_s'], 2)} s CPU "
            f"({_f(floor['cpu_ms_per_join_leave'], 2)} ms each)",
            ratio(ours["cpu_s"], floor["cpu_s"]),
            f"O(N) msgs: ≤ 1/client/round (≤ {ours['message_bound']:,.0f}); "
            f"naive {ours['naive_messages']:,}; CPU report", linear,
            f"joins at {ours['joins'] / max(ours['join_seconds'], 1e-9):,.0f}/s "
            f"(bare {floor['joins'] / max(floor['join_seconds'], 1e-9):,.0f}/s), leaves at "
            f"{ours['leaves'] / max(ours['leave_seconds'], 1e-9):,.0f}/s"),
    ]


def _rows_wire(r: dict[str, Any]) -> list[Row]:
    wire = r["wire"]
    counter, table, chat = wire["counter"], wire["table"], wire["chat"]
    limit = chat["first_limit"]
    return [
        Row("wire_counter", "wire bytes per event: counter",
            f"{counter['frame_bytes_max']} B (median {counter['frame_bytes_median']:.0f})",
            f"{counter['changed_bytes']} B changed text", None, "≤ 64 B", counter["frame_bytes_max"] <= 64),
        Row("wire_table", "wire bytes per event: 1,000-row table, one cell",
            f"{table['frame_bytes_max']} B (median {table['frame_bytes_median']:.0f})",
            f"{table['changed_bytes']} B changed text", None, "≤ 256 B", table["frame_bytes_max"] <= 256),
        Row("wire_chat", "wire bytes per event: 200-message chat, one appended",
            f"{chat['first_frame_bytes']} B (max {chat['frame_bytes_max']})",
            f"{chat['first_item_bytes']} B new message HTML",
            ratio(chat["first_frame_bytes"], chat["first_item_bytes"]),
            f"≤ 1.2×HTML+64 = {limit:.0f} B", chat["worst_vs_limit"] <= 1.0),
    ]


def _rows_runtime(r: dict[str, Any]) -> list[Row]:
    rt = r["runtime"]
    size = rt["served_gzip_bytes"] or rt["gzip9_bytes"]
    return [
        Row("runtime", "runtime /__nowaki/runtime.js, minified + gzip -9",
            f"{size:,} B served gzip (gzip -9 here: {rt['gzip9_bytes']:,} B; plain {rt['plain_bytes']:,} B)",
            "—", None, "≤ 2,048 B, minified", size <= 2048 and rt["minified"]),
    ]


def _rows_browser(r: dict[str, Any]) -> list[Row]:
    b = r["browser"]
    click_ratio = ratio(b["ours"]["p50_ms"], b["bare"]["p50_ms"])
    return [
        Row("browser", f"browser click→DOM (Chromium, counter, median of {b['ours']['n']})",
            f"{_f(b['ours']['p50_ms'], 2)} ms (p90 {_f(b['ours']['p90_ms'], 2)})",
            f"bare page {_f(b['bare']['p50_ms'], 2)} ms (p90 {_f(b['bare']['p90_ms'], 2)})",
            click_ratio, "≤ 1.3× bare",
            click_ratio is not None and click_ratio <= 1.3 and b["ours_final_text_ok"],
            f"in-page send→message p50: ours {_f(b['ours_send_to_message']['p50_ms'], 2)} ms, "
            f"bare {_f(b['bare_send_to_message']['p50_ms'], 2)} ms"
            + (f"; message→DOM mean: ours {_f(b['ours_message_to_dom']['mean_ms'], 3)} ms, "
               f"bare {_f(b['bare_message_to_dom']['mean_ms'], 3)} ms" if "ours_message_to_dom" in b else "")
            + (f"; diagnostic, NOWAKI_PREDICT=off: {_f(b['unpredicted']['p50_ms'], 2)} ms "
               f"(p90 {_f(b['unpredicted']['p90_ms'], 2)})" if "unpredicted" in b else "")),
    ]


def _rows_renderer(r: dict[str, Any]) -> list[Row]:
    rr = r["renderer"]
    counter, table, pipe = rr["counter"], rr["table"], rr["floor_pipe"]
    return [
        Row("renderer_counter", "renderer over pipes: counter (one request in flight)",
            f"{_f(counter['per_second'], 0)} renders/s ({_f(counter['cpu_us_per_render'], 0)} µs CPU each)",
            f"bare pipe {_f(pipe['per_second'], 0)}/s ({_f(pipe['cpu_us_per_render'], 0)} µs CPU each); "
            f"app alone {_f(counter['app_alone_cpu_us'], 1)} µs CPU",
            ratio(counter["per_second"], pipe["per_second"]), "report", None),
        Row("renderer_table", "renderer over pipes: 1,000-row table",
            f"{_f(table['per_second'], 0)} renders/s ({_f(table['cpu_us_per_render'], 0)} µs CPU each)",
            f"app alone {_f(table['app_alone_cpu_us'], 0)} µs CPU per render "
            f"(= {_f(1e6 / max(table['app_alone_cpu_us'], 1e-9), 0)}/s)",
            ratio(table["per_second"], 1e6 / max(table["app_alone_cpu_us"], 1e-9)), "report", None),
    ]


def _rows_fanout(r: dict[str, Any]) -> list[Row]:
    f = r["fanout"]
    return [
        Row("fanout", f"shared fan-out: 1 event, {f['viewers']:,} viewers",
            f"all have it in {_f(f['all_ms'], 1)} ms (p50 {_f(f['p50_ms'], 1)}); renders {f['renders']:.0f}",
            "—", None, "report; renders = 1", f["renders"] == 1 and f["all_received"]),
    ]


BUILDERS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "latency": _rows_latency,
    "idle": _rows_idle,
    "churn": _rows_churn,
    "wire": _rows_wire,
    "runtime": _rows_runtime,
    "browser": _rows_browser,
    "renderer": _rows_renderer,
    "fanout": _rows_fanout,
}


def build_rows(results: dict[str, Any]) -> list[Row]:
    """Every row whose measurements are present; a section that failed gives one failing row."""
    rows: list[Row] = []
    for section, build in BUILDERS.items():
        if section in results:
            try:
                rows += build(results)
            except (KeyError, TypeError, ValueError) as exc:
                rows.append(Row(section, section, f"incomplete: {exc!r}", "—", None, "—", False))
        elif section in results.get("errors", {}):
            rows.append(Row(section, section, f"error: {results['errors'][section]}", "—", None, "—", False))
    return rows


def table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    lines = ["| row | ours | floor (same run) | ratio | target | result |", "|---|---|---|---|---|---|"]
    for row in rows:
        ours = row.ours + (f"<br>{row.note}" if row.note else "")
        lines.append(f"| {row.name} | {ours} | {row.floor} | {_x(row.ratio)} | {row.target} | {row.mark} |")
    return "\n".join(lines)


def _diagnostics(results: dict[str, Any]) -> str:
    """Every latency side with its server CPU per message by process (/proc utime+stime)."""
    lat = results.get("latency")
    if not lat:
        return ""
    lines = ["| side | rtt p50 / p99 ms | msgs/s | rtt: CPU µs/msg | throughput: CPU µs/msg |",
             "|---|---|---|---|---|"]
    for name, label in SIDES.items():
        side = lat.get(name)
        if side is None:
            continue
        rtt = ", ".join(f"{k} {v:.0f}" for k, v in side["rtt_cpu_us_per_msg"].items())
        thr = ", ".join(f"{k} {v:.0f}" for k, v in side["thr_cpu_us_per_msg"].items())
        rate = f"{side['throughput_per_s']:,.0f}" if side["throughput_completed"] else "—"
        if side["throughput_completed"]:
            thr += f"; client {side['thr_client_cpu_us_per_msg']:.0f}"
        lines.append(f"| {label} | {side['rtt']['p50_ms']:.3f} / {side['rtt']['p99_ms']:.3f} | {rate} "
                     f"| {rtt}; client {side['rtt_client_cpu_us_per_msg']:.0f} | {thr or '—'} |")
    return "\n".join(lines)


SIDES = {
    "echo": "echo floor (bare trio-websocket)",
    "chain": "chain floor (+ CBOR pipe hop)",
    "hyper": "diagnostic: bare ASGI echo on hypercorn",
    "ours": "nowaki (front + renderer pool)",
    "mispredicted": "diagnostic: nowaki, inc/dec alternating (every predicted reply wrong)",
    "unpredicted": "diagnostic: nowaki with NOWAKI_PREDICT=off",
}


def git_commit() -> str:
    """Short HEAD, with ``+dirty`` when the work tree has changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                               text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+dirty" if dirty else head or "unknown"


def _history_line(meta: dict[str, Any], rows: list[Row], results: dict[str, Any]) -> str:
    by = {row.key: row for row in rows}
    passed = sum(1 for row in rows if row.ok)
    graded = sum(1 for row in rows if row.ok is not None)

    def cell(key: str, figure: Callable[[], str]) -> str:
        row = by.get(key)
        if row is None:
            return "—"
        try:
            text = figure()
        except (KeyError, TypeError):
            return "—"
        return f"{text} ({_x(row.ratio)})" if row.ratio is not None else text

    lat, idle = results.get("latency", {}), results.get("idle", {})
    return "| " + " | ".join([
        meta["when"], meta["commit"], meta["mode"], f"{meta['wall_seconds']:.0f} s", f"{passed}/{graded}",
        cell("rtt", lambda: f"{lat['ours']['rtt']['p50_ms']:.3f}"),
        cell("throughput", lambda: f"{lat['ours']['throughput_per_s']:.0f}"),
        cell("idle", lambda: f"{idle['ours']['kib_per_conn']:.1f}"),
        cell("browser", lambda: f"{results['browser']['ours']['p50_ms']:.2f}"),
        cell("scaling", lambda: f"{idle['scaling']['big']['p50_ms']:.3f}"),
        cell("wire_table", lambda: f"{results['wire']['table']['frame_bytes_max']}"),
        cell("runtime", lambda: f"{results['runtime']['served_gzip_bytes']}"),
    ]) + " |"


def _old_history(path: Path) -> str:
    """The run table of the previous results file's History section, as written."""
    if not path.exists():
        return ""
    text = path.read_text()
    at = text.find(RUNS)  # files written before the changes table have the runs right under HISTORY
    at = text.find(HISTORY) if at < 0 else at
    if at < 0:
        return ""
    rows = [line for line in text[at:].splitlines() if line.startswith("|")]
    return "\n".join(rows)


def write(out_dir: Path, stem: str, meta: dict[str, Any], results: dict[str, Any], rows: list[Row]) -> str:
    """Write ``<stem>.json`` and ``<stem>.md``; return the table as printed."""
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(
        {"meta": meta, "rows": [asdict(row) | {"mark": row.mark} for row in rows], "raw": results},
        indent=2, default=str) + "\n")
    history = _old_history(md_path) or HISTORY_HEAD
    history += "\n" + _history_line(meta, rows, results)
    rendered = table(rows)
    cpu = _diagnostics(results)
    sections = results.get("section_seconds", {})
    md = [
        "# nowaki bench",
        "",
        f"Run {meta['when']} UTC · commit `{meta['commit']}` · mode **{meta['mode']}** · wall "
        f"{meta['wall_seconds']:.0f} s · {meta['cpus']} CPUs · load average {meta['load_start']:.1f} at "
        f"start, {meta['load_end']:.1f} at end. Regenerate with `make bench` (`python -m bench.run`).",
        "",
        "Floors are measured by this harness in the same run, on loopback, with the same client: a bare "
        "trio-websocket echo server (**echo**), the same plus a framed-CBOR hop to a bare pipe "
        "subprocess answering ~150 B of HTML (**chain**), and that server's idle-socket RSS. Latency "
        "and click rows alternate floor and nowaki blocks so background load hits both alike.",
        "",
        rendered,
        "",
    ]
    if cpu:
        md += ["### Every side of the latency rows (same run; server CPU from /proc utime+stime)", "",
               cpu, ""]
    if sections:
        md += ["Section wall times: " + ", ".join(f"{k} {v:.0f} s" for k, v in sections.items()), ""]
    md += [HISTORY, ""]
    if CHANGES.exists():
        md += [CHANGES.read_text().strip("\n"), ""]
    md += [RUNS, "", history.strip("\n"), ""]
    md_path.write_text("\n".join(md))
    return rendered
