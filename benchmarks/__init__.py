"""Benchmarks of mimeguard against the stdlib ``email`` package and flanker (issue 5).

Run ``python -m benchmarks`` (``--quick`` for a short run); see benchmarks/README.md.
"""
