"""pytest-benchmark suite for CEL expressions: the same cases as ``inngest-core bench``.

Run with ``pytest bench/ --benchmark-only`` (kept out of the default test run).
"""

from __future__ import annotations

import pytest

from inngest_core.bench import Call, cases, prepare

CASES = cases("expr")


@pytest.mark.parametrize(("group", "contender"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_expr(benchmark, group, contender) -> None:
    try:
        fn = prepare(group, contender)
    except ImportError as exc:
        pytest.skip(f"{exc.name} not installed")
    benchmark.group = group.name
    if isinstance(fn, Call):
        benchmark(fn.fn, *fn.args, **dict(fn.kwargs))
    else:
        benchmark(fn)
