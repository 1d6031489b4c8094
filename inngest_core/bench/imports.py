"""Benchmark group for import time: ``python -X importtime -c "import inngest_core"``.

Each row is a whole interpreter run, so the plain interpreter (``python -c pass``) stands
beside it as the baseline: the difference is what importing the package costs.  A run
answers with the twin it loaded and whether any Python twin or Lark came with it; the
compiled import path must bring neither (Lark loads only when the Python twin parses).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Callable

from . import Contender, Group

#: What a run prints: the live twin, and the Python twins and Lark modules it loaded.
PROBE = (
    "import sys, inngest_core; "
    "extra = sorted(m for m in sys.modules if m.startswith('lark') or "
    "(m.startswith('inngest_core._') and m.endswith('_py'))); "
    "print(inngest_core.IMPLEMENTATION, *extra)"
)


def _run(code: str, python_twins: bool) -> Callable[[], str]:
    env = dict(os.environ)
    env.pop("INNGEST_CORE_NO_EXTENSIONS", None)
    if python_twins:
        env["INNGEST_CORE_NO_EXTENSIONS"] = "1"

    def run() -> str:
        # cwd=/ so the installed package is imported, not a source tree in the working directory.
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, cwd="/",
                              capture_output=True, text=True, check=True)
        return done.stdout.strip()

    return run


def _python_twins(answer: str) -> str:
    # The Python twins' run loads its own twins and Lark on purpose: only the twin is checked.
    return answer.split()[0].replace("python", "compiled")


def groups() -> list[Group]:
    return [
        Group(
            "imports",
            'python -X importtime -c "import inngest_core"',
            "compiled",
            [
                Contender("inngest_core (compiled)", "compiled", lambda: _run(PROBE, False)),
                Contender("inngest_core (python)", "python", lambda: _run(PROBE, True),
                          normalize=_python_twins),
                Contender("python -c pass [baseline]", "baseline", lambda: _run("pass", False),
                          checked=False),
            ],
        ),
    ]
