"""Time the registered groups and render the table behind ``inngest-core bench``.

Each contender is checked against the group's expected value before it is timed; a wrong
answer is reported as such and not timed.  Times are medians over several rounds; a round
times, in turn, one loop of about ``target`` seconds of every contender of a group, so the
ratios are measured side by side in one run on one machine.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
import timeit
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Any

from . import Call, Contender, Group, Timed

__all__ = ["Row", "run", "render_text", "render_markdown", "render_json"]


@dataclass
class Row:
    part: str
    group: str
    label: str
    kind: str
    status: str  # "ok", "skipped: <why>", "wrong: <got>"
    median_ns: float | None
    #: how many times slower this row is than our compiled twin (>1: we are faster)
    ratio: float | None


def _timer(fn: Timed) -> timeit.Timer:
    if isinstance(fn, Call):
        names = [f"a{i}" for i in range(len(fn.args))]
        namespace: dict[str, Any] = dict(zip(names, fn.args), fn=fn.fn)
        for key, value in fn.kwargs:
            namespace[f"k_{key}"] = value
            names.append(f"{key}=k_{key}")
        return timeit.Timer(f"fn({', '.join(names)})", globals=namespace)
    return timeit.Timer("fn()", globals={"fn": fn})


def _calibrate(fn: Timed, target: float) -> tuple[timeit.Timer, int]:
    """``fn``'s timer and the number of calls that take about ``target`` seconds."""
    timer = _timer(fn)
    loops = 1
    while True:
        elapsed = timer.timeit(loops)
        if elapsed >= target / 4 or loops >= 1 << 24:
            break
        loops *= 4
    return timer, max(1, int(loops * target / max(elapsed, 1e-9)))


def _interleaved(fns: list[Timed], repeats: int, target: float) -> list[float]:
    """Median nanoseconds per call of each of ``fns``, timed in rounds: each round times one
    loop of every contender in turn, so a slow spell of a shared machine falls on all of them
    alike instead of on whichever contender it happened to meet (the ratios are what counts)."""
    timers = [_calibrate(fn, target) for fn in fns]
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for (timer, loops), out in zip(timers, times):
            out.append(timer.timeit(loops) / loops * 1e9)
    return [statistics.median(t) for t in times]


def _check(group: Group, contender: Contender, fn: Timed) -> str | None:
    if not contender.checked:
        return None
    return _wrong(group, contender, fn())


def _wrong(group: Group, contender: Contender, got: Any) -> str | None:
    if not contender.checked:
        return None
    if contender.normalize is not None:
        got = contender.normalize(got)
    if got != group.expected or type(got) is not type(group.expected):
        return f"wrong: {got!r} (expected {group.expected!r})"
    return None


def _rounds(group: Group, contender: Contender, fn: Timed) -> tuple[str | None, float | None]:
    """A workload timed call by call, ``group.rounds`` times; the first call is the check."""
    times = []
    for i in range(group.rounds or 1):
        began = time.perf_counter_ns()
        got = fn()
        times.append(time.perf_counter_ns() - began)
        if i == 0 and (wrong := _wrong(group, contender, got)) is not None:
            return wrong, None
    return None, statistics.median(times)


def run(groups: list[Group], *, repeats: int = 7, target: float = 0.02) -> list[Row]:
    rows: list[Row] = []
    for group in groups:
        group_rows: list[Row] = []
        timed: list[tuple[Row, Timed]] = []
        for contender in group.contenders:
            try:
                fn = contender.make()
            except ImportError as exc:
                group_rows.append(Row(group.part, group.name, contender.label, contender.kind,
                                      f"skipped: {exc.name or exc} not installed", None, None))
                continue
            if group.rounds is not None:
                wrong, median = _rounds(group, contender, fn)
            else:
                wrong, median = _check(group, contender, fn), None
            row = Row(group.part, group.name, contender.label, contender.kind,
                      wrong or "ok", None if wrong else median, None)
            group_rows.append(row)
            if wrong is None and group.rounds is None:
                timed.append((row, fn))
        if timed:
            medians = _interleaved([fn for _, fn in timed], repeats, target)
            for (row, _), median in zip(timed, medians):
                row.median_ns = median
        compiled = next((r.median_ns for r in group_rows
                         if r.kind == "compiled" and r.median_ns), None)
        for row in group_rows:
            if compiled and row.median_ns:
                row.ratio = row.median_ns / compiled
        rows.extend(group_rows)
    return rows


def _environment() -> str:
    versions = []
    for dist in ("inngest-core", "pytimeparse", "isodate", "ciso8601", "python-dateutil",
                 "pendulum", "whenever", "cel-python", "common-expression-language", "cel-expr-python"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            pass
    return (f"Python {platform.python_version()} ({platform.python_implementation()}) on "
            f"{platform.machine()} {platform.system()}, {platform.processor() or 'cpu'}; "
            + ", ".join(versions))


def _time(ns: float | None) -> str:
    if ns is None:
        return "-"
    if ns < 1_000:
        return f"{ns:.1f} ns"
    if ns < 1_000_000:
        return f"{ns / 1_000:.2f} us"
    if ns < 1_000_000_000:
        return f"{ns / 1_000_000:.2f} ms"
    return f"{ns / 1_000_000_000:.2f} s"


def _ratio(row: Row) -> str:
    if row.ratio is None:
        return "-" if row.status == "ok" else row.status
    if row.kind == "compiled" and row.ratio == 1.0:  # the group's first compiled row
        return "1.00x (reference)"
    return f"{row.ratio:.2f}x"


def render_text(rows: list[Row]) -> str:
    """A plain table: median per call, and how many times slower than our compiled twin."""
    lines = [_environment(), ""]
    width = max((len(r.label) for r in rows), default=10) + 2
    current = None
    for row in rows:
        if row.group != current:
            current = row.group
            lines.append(f"[{row.part}] {row.group}")
        lines.append(f"  {row.label:<{width}} {_time(row.median_ns):>12}  {_ratio(row)}")
    return "\n".join(lines)


def render_markdown(rows: list[Row]) -> str:
    lines = [
        f"_{_environment()}_",
        "",
        "| case | contender | median | time vs compiled (x slower; >1 means we are faster) |",
        "| --- | --- | ---: | ---: |",
    ]
    for row in rows:
        lines.append(f"| {row.group} | {row.label} | {_time(row.median_ns)} | {_ratio(row)} |")
    return "\n".join(lines)


def render_json(rows: list[Row]) -> str:
    return json.dumps({"environment": _environment(), "rows": [asdict(r) for r in rows]},
                      indent=2)


def main(fmt: str = "text", parts: tuple[str, ...] | None = None, quick: bool = False) -> int:
    from . import groups

    rows = run(groups(parts), repeats=5 if quick else 7, target=0.005 if quick else 0.02)
    render = {"text": render_text, "markdown": render_markdown, "json": render_json}[fmt]
    sys.stdout.write(render(rows) + "\n")
    return 1 if any(r.status.startswith("wrong") for r in rows) else 0
