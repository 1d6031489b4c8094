"""``python -m inngest_core`` is the ``inngest-core`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
