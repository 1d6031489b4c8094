"""Build: every ``src_pyx/_*_c.pyx`` becomes the extension ``inngest_core._*_c``.

A compile failure fails the build loudly.  ``INNGEST_CORE_NO_EXTENSIONS=1`` at build time
gives a pure-Python install on purpose (the package then runs on its Python twins).
"""

import os
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).parent


def extensions() -> list:
    if os.environ.get("INNGEST_CORE_NO_EXTENSIONS"):
        return []
    from Cython.Build import cythonize

    sources = sorted((HERE / "src_pyx").glob("_*_c.pyx"))
    if not sources:
        raise RuntimeError("no src_pyx/_*_c.pyx sources found: the sdist is incomplete")
    modules = [
        Extension(
            f"inngest_core.{src.stem}",
            [str(src.relative_to(HERE))],
            extra_compile_args=["-O2"],
        )
        for src in sources
    ]
    return cythonize(
        modules,
        include_path=["src_pyx"],
        compiler_directives={
            "language_level": 3,
            "boundscheck": False,
            "wraparound": False,
            "initializedcheck": False,
            "cdivision": True,
            "embedsignature": True,
        },
    )


setup(ext_modules=extensions())
