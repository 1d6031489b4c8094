"""Benchmark groups for CEL expressions: ours against cel-python, common-expression-language,
cel-expr-python and hand-written Python doing the same lookups.

The issue's evaluate rows build a fresh nested-dict activation per call (as a server
evaluating each incoming event does), the baseline included, so the ratios compare equal work.
Building it costs more than our evaluation, so two more groups time the evaluation alone, on
an activation built once (each peer's in its own prepared form where it has one).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

from . import Call, Contender, Group, Timed

S1 = "event.data.user.id == async.data.user.id"
S2 = (
    'event.data.amount > 100 && async.data.plan in ["pro", "enterprise"] '
    '&& async.data.email.endsWith("@example.com")'
)


def activation() -> dict[str, Any]:
    """A fresh activation: the triggering event and the awaited one."""
    return {
        "event": {"data": {"user": {"id": "u_123"}, "amount": 250}},
        "async": {
            "data": {"user": {"id": "u_123"}, "plan": "pro", "email": "ann@example.com"},
        },
    }


def _hand_s1(a: Any) -> bool:
    return bool(a["event"]["data"]["user"]["id"] == a["async"]["data"]["user"]["id"])


def _hand_s2(a: Any) -> bool:
    data = a["async"]["data"]
    return bool(
        a["event"]["data"]["amount"] > 100
        and data["plan"] in ("pro", "enterprise")
        and data["email"].endswith("@example.com")
    )


def _ours(suffix: str, source: str) -> Callable[[], Timed]:
    def make() -> Timed:
        module = importlib.import_module(f"inngest_core._expr_{suffix}")
        evaluate = module.compile_program(source).evaluate
        fresh = activation
        return lambda: evaluate(fresh())

    return make


def _baseline(fn: Callable[[Any], bool]) -> Callable[[], Timed]:
    def make() -> Timed:
        fresh = activation
        return lambda: fn(fresh())

    return make


def _dialect(source: str) -> Any:
    """The program of ``source`` in the "inngest" dialect over the compiled twin."""
    from .. import _expr_dialect

    return _expr_dialect.compile_dialect(source, twin=importlib.import_module(
        "inngest_core._expr_c"))


def _ours_dialect(source: str) -> Callable[[], Timed]:
    def make() -> Timed:
        evaluate = _dialect(source).evaluate
        fresh = activation
        return lambda: evaluate(fresh())

    return make


def _ours_dialect_prebuilt(source: str) -> Callable[[], Timed]:
    def make() -> Timed:
        return Call(_dialect(source).evaluate, (activation(),))

    return make


#: The rows the "inngest" dialect adds: the ratio is read against the group's compiled
#: "cel" row, timed in the same run (the issue's bound: at most 1.2x).
DIALECT_LABEL = 'inngest_core (compiled), dialect="inngest"'


def _celpy_module() -> Any:
    """cel-python, typed loosely: its activations are its own value types."""
    return importlib.import_module("celpy")


def _celpy(source: str) -> Callable[[], Timed]:
    def make() -> Timed:
        celpy = _celpy_module()
        env = celpy.Environment()
        program = env.program(env.compile(source))
        convert = celpy.json_to_cel
        fresh = activation
        return lambda: program.evaluate(convert(fresh()))

    return make


def _rust(source: str) -> Callable[[], Timed]:
    def make() -> Timed:
        import cel

        execute = cel.compile(source).execute
        fresh = activation
        return lambda: execute(fresh())

    return make


def _google_env() -> Any:
    from cel_expr_python import cel as google

    return google.NewEnv(variables={"event": google.Type.DYN, "async": google.Type.DYN})


def _google(source: str) -> Callable[[], Timed]:
    def make() -> Timed:
        evaluate = _google_env().compile(source).eval
        fresh = activation
        return lambda: evaluate(data=fresh()).value()

    return make


def _evaluate_group(name: str, source: str, hand: Callable[[Any], bool]) -> Group:
    return Group(
        "expr",
        f"evaluate {name}: {source}",
        True,
        [
            Contender("inngest_core (compiled)", "compiled", _ours("c", source)),
            Contender("inngest_core (python)", "python", _ours("py", source)),
            Contender(DIALECT_LABEL, "compiled", _ours_dialect(source)),
            Contender("hand-written Python function [baseline]", "baseline", _baseline(hand)),
            Contender("cel-python (celpy)", "peer", _celpy(source), normalize=bool),
            Contender("common-expression-language (cel)", "peer", _rust(source)),
            Contender("cel-expr-python (Google C++)", "peer", _google(source)),
        ],
    )


def _ours_prebuilt(suffix: str, source: str) -> Callable[[], Timed]:
    def make() -> Timed:
        module = importlib.import_module(f"inngest_core._expr_{suffix}")
        return Call(module.compile_program(source).evaluate, (activation(),))

    return make


def _baseline_prebuilt(fn: Callable[[Any], bool]) -> Callable[[], Timed]:
    return lambda: Call(fn, (activation(),))


def _celpy_prebuilt(source: str) -> Callable[[], Timed]:
    def make() -> Timed:
        celpy = _celpy_module()
        env = celpy.Environment()
        program = env.program(env.compile(source))
        return Call(program.evaluate, (celpy.json_to_cel(activation()),))

    return make


def _rust_prebuilt(source: str) -> Callable[[], Timed]:
    def make() -> Timed:
        import cel

        return Call(cel.compile(source).execute, (activation(),))

    return make


def _google_prebuilt(source: str) -> Callable[[], Timed]:
    def make() -> Timed:
        env = _google_env()
        return Call(env.compile(source).eval, (env.Activation(activation()),))

    return make


def _prebuilt_group(name: str, source: str, hand: Callable[[Any], bool]) -> Group:
    return Group(
        "expr",
        f"evaluate {name}, activation built once: {source}",
        True,
        [
            Contender("inngest_core (compiled)", "compiled", _ours_prebuilt("c", source)),
            Contender("inngest_core (python)", "python", _ours_prebuilt("py", source)),
            Contender(DIALECT_LABEL, "compiled", _ours_dialect_prebuilt(source)),
            Contender("hand-written Python function [baseline]", "baseline",
                      _baseline_prebuilt(hand)),
            Contender("cel-python (celpy)", "peer", _celpy_prebuilt(source), normalize=bool),
            Contender("common-expression-language (cel)", "peer", _rust_prebuilt(source)),
            Contender("cel-expr-python (Google C++)", "peer", _google_prebuilt(source),
                      normalize=lambda value: value.value()),
        ],
    )


def _result(program: Any) -> Any:
    """What a compiled program answers on the standard activation (checks every compile row)."""
    return program.evaluate(activation())


def _compile_ours(suffix: str) -> Callable[[], Timed]:
    def make() -> Timed:
        module = importlib.import_module(f"inngest_core._expr_{suffix}")
        return Call(module.compile_program, (S1,))

    return make


def _compile_celpy() -> Timed:
    celpy = _celpy_module()
    env = celpy.Environment()
    return lambda: env.program(env.compile(S1))


def _compile_rust() -> Timed:
    import cel

    return Call(cel.compile, (S1,))


def _compile_google() -> Timed:
    return Call(_google_env().compile, (S1,))


def groups() -> list[Group]:
    return [
        _evaluate_group("S1", S1, _hand_s1),
        _evaluate_group("S2", S2, _hand_s2),
        _prebuilt_group("S1", S1, _hand_s1),
        _prebuilt_group("S2", S2, _hand_s2),
        Group(
            "expr",
            f"compile (uncached) S1: {S1}",
            True,
            [
                Contender("inngest_core (compiled)", "compiled", _compile_ours("c"),
                          normalize=_result),
                Contender("inngest_core (python)", "python", _compile_ours("py"),
                          normalize=_result),
                Contender("cel-python (celpy)", "peer", _compile_celpy,
                          normalize=lambda p: bool(p.evaluate(_celpy_activation()))),
                Contender("common-expression-language (cel)", "peer", _compile_rust,
                          normalize=lambda p: p.execute(activation())),
                Contender("cel-expr-python (Google C++)", "peer", _compile_google,
                          normalize=lambda e: e.eval(data=activation()).value()),
            ],
        ),
    ]


def _celpy_activation() -> Any:
    return _celpy_module().json_to_cel(activation())
