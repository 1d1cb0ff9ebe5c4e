"""Bugs the fuzzers found that are reported but not fixed yet.

Each has a minimal input under ``tests/fixtures/fuzz/`` that
``tests/test_fuzz_regressions.py`` runs as a strict ``xfail``: when the fix lands the
test passes unexpectedly and fails the suite, which is the signal to delete the
entry here (and the ``xfail``).  While an entry is listed, ``fuzz/run.py`` does not
stop on inputs that fail the same way (unless ``--report-known``), so a long run
goes on looking for new bugs and CI is not red for a bug already on file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["KNOWN", "Known", "known_issue"]


@dataclass(frozen=True)
class Known:
    #: the regression inputs, file names under tests/fixtures/fuzz/ ("<target>-<what>.eml")
    fixtures: tuple[str, ...]
    #: what is wrong, and where
    summary: str
    #: exception class name and a regular expression its message matches
    exception: str
    match: str


KNOWN: tuple[Known, ...] = ()


def known_issue(exc: BaseException) -> Known | None:
    """The known bug ``exc`` is an instance of, if any."""
    name = type(exc).__name__
    text = str(exc)
    for k in KNOWN:
        if k.exception == name and re.search(k.match, text):
            return k
    return None
