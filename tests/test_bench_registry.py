"""The benchmark registry and runner (not timings: those live in bench/ and the CLI)."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from inngest_core.bench import Contender, Group, groups, runner
from inngest_core.cli import main
from twins import Twin


def test_every_group_has_both_twins_and_checks() -> None:
    for group in groups(("duration",)):
        kinds = [c.kind for c in group.contenders]
        assert kinds[:2] == ["compiled", "python"], group.name


def _missing() -> Callable[[], Any]:
    import inngest_core_no_such_peer  # type: ignore[import-not-found]  # noqa: F401

    raise AssertionError("unreachable")


def test_runner_checks_skips_and_ratios() -> None:
    group = Group("t", "double", 4, [
        Contender("ours", "compiled", lambda: (lambda: 2 * 2)),
        Contender("right peer", "peer", lambda: (lambda: "4"), normalize=int),
        Contender("wrong peer", "peer", lambda: (lambda: 5)),
        Contender("absent peer", "peer", _missing),
    ])
    rows = runner.run([group], repeats=3, target=0.001)
    by = {r.label: r for r in rows}
    assert by["ours"].status == "ok" and by["ours"].ratio == pytest.approx(1.0)
    assert by["right peer"].status == "ok" and by["right peer"].ratio is not None
    assert by["wrong peer"].status == "wrong: 5 (expected 4)"
    assert by["wrong peer"].median_ns is None
    assert by["absent peer"].status == "skipped: inngest_core_no_such_peer not installed"


def test_bench_json_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--json", "--quick", "--part", "duration"]) == 0
    doc = json.loads(capsys.readouterr().out)
    labels = {row["label"] for row in doc["rows"]}
    assert "inngest_core (compiled)" in labels
    assert all(not row["status"].startswith("wrong") for row in doc["rows"])


def test_bench_markdown_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--markdown", "--quick", "--part", "duration"]) == 0
    out = capsys.readouterr().out
    assert "| case | contender | median |" in out
    assert '| parse_duration_ns("1h30m") | inngest_core (compiled) |' in out


def test_wait_workload_sources_are_the_substituted_templates() -> None:
    from inngest_core._expr_py import compile_program
    from inngest_core.bench.wait import wait_source, wait_template

    for i in range(0, 120):
        template, event = wait_template(i)
        assert str(compile_program(template).substitute({"event": event})) == wait_source(i)


def test_wait_groups_resume_the_expected_waits(impl: Twin) -> None:
    from inngest_core.bench.wait import EVENT, build, expected_keys

    index = build(impl.suffix, 5_000)
    assert index.match(EVENT) == expected_keys(5_000) == [4242]
    assert len(index) == 5_000


def test_a_workload_group_is_timed_round_by_round() -> None:
    calls: list[int] = []

    def workload() -> int:
        calls.append(1)
        return 7 if len(calls) == 1 else 8

    right = Group("t", "workload", 7, [Contender("ours", "compiled", lambda: workload)], rounds=3)
    rows = runner.run([right])
    assert len(calls) == 3  # the first call is the check, no calibration loops
    assert rows[0].status == "ok" and rows[0].median_ns is not None
    calls.clear()
    wrong = Group("t", "workload", 8, [Contender("ours", "compiled", lambda: workload)], rounds=3)
    assert runner.run([wrong])[0].status == "wrong: 7 (expected 8)"
    assert len(calls) == 1


def test_contenders_of_a_group_are_timed_in_interleaved_rounds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    order: list[str] = []

    class Timer:
        def __init__(self, label: str, ns: list[float]) -> None:
            self.label, self.ns = label, ns

        def timeit(self, loops: int) -> float:
            order.append(self.label)
            return self.ns.pop(0) * loops / 1e9

    samples = {"a": [10.0, 30.0, 20.0], "b": [5.0, 1.0, 3.0]}
    monkeypatch.setattr(runner, "_calibrate",
                        lambda fn, target: (Timer(fn(), samples[fn()]), 4))
    group = Group("t", "pair", "a", [
        Contender("ours", "compiled", lambda: (lambda: "a")),
        Contender("peer", "peer", lambda: (lambda: "b"), checked=False),
    ])
    rows = runner.run([group], repeats=3)
    assert order == ["a", "b", "a", "b", "a", "b"]
    assert [r.median_ns for r in rows] == [20.0, 3.0]
    assert rows[1].ratio == pytest.approx(0.15)
