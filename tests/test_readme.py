"""The README's examples run and hold."""

from __future__ import annotations

import doctest
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_examples() -> None:
    text = README.read_text()
    parser = doctest.DocTestParser()
    blocks = [block for block in text.split("```") if block.startswith("python\n")]
    assert blocks, "the README has no Python examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for number, block in enumerate(blocks):
        test = parser.get_doctest(block[len("python\n"):], {}, f"README block {number}",
                                  str(README), 0)
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
