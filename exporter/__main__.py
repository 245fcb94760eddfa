"""``python -m exporter`` is the same as the ``autobot-exporter`` command."""

from exporter.cli import main

raise SystemExit(main())
