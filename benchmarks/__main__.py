"""``python -m benchmarks``: run the benchmark suite (``--quick`` for a short run)."""

from __future__ import annotations

from .suite import main

raise SystemExit(main())
