"""pytest-benchmark suites for every registered case: the same rows as ``inngest-core bench``
(``inngest_core/bench/``), one benchmark group per case.

Run with ``pytest bench/ --benchmark-only`` (kept out of the default test run); one part with
``-k duration``, ``-k datetime``, ``-k expr``, ``-k wait``, ...
"""

from __future__ import annotations

import pytest

from inngest_core.bench import PARTS, Call, cases, prepare

CASES = [case for part in PARTS for case in cases(part)]


@pytest.mark.parametrize(("group", "contender"), [c[1:] for c in CASES],
                         ids=[f"{c[1].part}: {c[0]}" for c in CASES])
def test_case(benchmark, group, contender) -> None:
    try:
        fn = prepare(group, contender)
    except ImportError as exc:
        pytest.skip(f"{exc.name} not installed")
    benchmark.group = group.name
    if group.rounds is not None:
        # A whole workload (seconds a call): exactly that many rounds, not calibrated loops.
        benchmark.pedantic(fn, rounds=group.rounds, iterations=1)
    elif isinstance(fn, Call):
        benchmark(fn.fn, *fn.args, **dict(fn.kwargs))
    else:
        benchmark(fn)
