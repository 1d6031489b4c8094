"""What the wait index's timings in ``test_bench_cases.py`` leave out: the memory per stored
wait (tracemalloc) and a PNG chart of match time against the number of stored waits
(``bench/wait-scaling.png``).  Run with ``pytest bench/test_bench_wait.py -s``.
"""

from __future__ import annotations

import gc
import importlib
import statistics
import timeit
import tracemalloc
from pathlib import Path

import pytest

from inngest_core.bench.wait import EVENT, SIZES, build, wait_source

CHART = Path(__file__).parent / "wait-scaling.png"


@pytest.mark.parametrize("suffix", ["c", "py"])
def test_memory_per_simple_wait(suffix: str) -> None:
    wait = importlib.import_module(f"inngest_core._wait_{suffix}")
    expr = importlib.import_module(f"inngest_core._expr_{suffix}")
    sources = [f'async.data.user_id == "u{i}"' for i in range(100_000)]
    index = wait.ExpressionIndex()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i, source in enumerate(sources):
        index.add(i, expr.compile_program(source))
    gc.collect()
    per_wait = (tracemalloc.get_traced_memory()[0] - before) / len(sources)
    tracemalloc.stop()
    print(f"\n{suffix}: {per_wait:.0f} bytes per stored simple wait (source text excluded)")
    assert len(index) == len(sources)
    if suffix == "c":
        assert per_wait <= 1024, "issue 5: at most 1 KB per stored simple wait"


def test_scaling_chart() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    medians = []
    for size in SIZES:
        index = build("c", size)
        timer = timeit.Timer(lambda: index.match(EVENT))
        medians.append(statistics.median(timer.repeat(7, 200)) / 200 * 1e6)
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(SIZES, medians, marker="o")
    axes.set_xscale("log")
    axes.set_ylim(bottom=0)
    axes.set_xlabel("stored waits")
    axes.set_ylabel("median match time (µs)")
    axes.set_title("ExpressionIndex.match, compiled twin")
    figure.tight_layout()
    figure.savefig(CHART)
    print("\n" + ", ".join(f"{s:,}: {m:.1f} us" for s, m in zip(SIZES, medians)))
    assert wait_source(1).startswith("async.data.user_id")
