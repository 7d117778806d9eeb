"""``python -m codemods.results PATH...``: see ``codemods.results.cli``."""

from codemods.results.cli import main

raise SystemExit(main())
