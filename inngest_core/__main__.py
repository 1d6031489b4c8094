"""``python -m inngest_core`` is the ``inngest-core`` command."""

from .cli import main

raise SystemExit(main())
