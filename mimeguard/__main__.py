"""``python -m mimeguard`` runs the command line (same as the ``mimeguard`` script)."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
