"""Loading and checking the Go server's recorded answers (tests/inngest_dialect/*.json)."""

from __future__ import annotations

import base64
import json
import math
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from inngest_core._expr_lib import UInt

DATA = Path(__file__).parent / "inngest_dialect"
FILES = ("expressions_test.json", "unknown_test.json", "validation_test.json",
         "residual_test.json", "lifted_evaluation_test.json", "data_test.json",
         "expr_lift_test.json", "expr_aggregate.json", "behaviour_matrix.json",
         "dialect_examples.json", "interpolate_probes.json")

_GO_DURATION = re.compile(r"(-?)((?:[0-9.]+(?:ns|us|µs|ms|s|m|h))+)\Z")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def decode(value: Any) -> Any:
    """The harness's typed JSON (README.md) as Python values."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (tag, body), = value.items()
            if tag == "$uint":
                return UInt(int(body))
            if tag == "$double":
                return float(body.replace("Inf", "inf"))
            if tag == "$timestamp":
                return datetime.fromisoformat(body.replace("Z", "+00:00")).astimezone(timezone.utc)
            if tag == "$duration":
                sign = -1 if body.startswith("-") else 1
                seconds = sum(float(n) * _UNIT[u] for n, u in
                              re.findall(r"([0-9.]+)(ns|us|µs|ms|s|m|h)", body))
                return timedelta(seconds=sign * seconds)
            if tag == "$bytes":
                return base64.b64decode(body)
            if tag == "$map":
                return {decode(k): decode(v) for k, v in body}
            if tag == "$nil":
                return None
        return {k: decode(v) for k, v in value.items()}
    return value


_TYPES = {"bool": bool, "int": int, "uint": UInt, "double": float, "string": str,
          "null": type(None), "list": list, "map": dict, "timestamp": datetime,
          "duration": timedelta, "bytes": bytes}


def same(expected: Any, got: Any) -> bool:
    if isinstance(expected, float) and isinstance(got, float):
        return (math.isnan(expected) and math.isnan(got)) or expected == got and (
            math.copysign(1, expected) == math.copysign(1, got))
    if type(expected) is not type(got) and not (
            isinstance(expected, int) and isinstance(got, int) and type(expected) is not bool
            and type(got) is not bool and (type(expected) is UInt) == (type(got) is UInt)):
        if isinstance(expected, float) and type(got) in (int,) or isinstance(got, float) and type(expected) is int:
            return False
        if not (isinstance(expected, list) and isinstance(got, list)) and not (
                isinstance(expected, dict) and isinstance(got, dict)):
            return False
    if isinstance(expected, list):
        return len(expected) == len(got) and all(same(a, b) for a, b in zip(expected, got))
    if isinstance(expected, dict):
        return expected.keys() == got.keys() and all(same(expected[k], got[k]) for k in expected)
    return expected == got


def load(name: str) -> list[dict[str, Any]]:
    return json.loads((DATA / name).read_text())["cases"]


def known_differences() -> dict[tuple[str, str], str]:
    path = DATA / "known_differences.json"
    if not path.exists():
        return {}
    return {(d["file"], d["name"]): d["reason"] for d in json.loads(path.read_text())}
