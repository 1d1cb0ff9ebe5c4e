"""How many real messages the repairing edit pipeline refuses, and why.

    PYTHONPATH=. python -m benchmarks.refusals [CORPUS_DIR]

Runs ``Editor(data, repair=True).add_disclaimer(...).rewrite_subject(...)
.strip_attachments(match=SES_BLOCKED)`` under the ``workmail`` profile over every
message of the corpus (default ``../shared/corpus``) and prints the refusal rate
among messages that have a From, with the rule codes of the errors that refused them.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import mimeguard
from mimeguard import Editor, InvalidMessageError, parse

DISCLAIMER = "This message came from outside the organisation. Be careful with links."


def corpus(root: Path) -> list[Path]:
    """The messages of ``root``, as tests/conftest.py lists them."""
    return [
        p
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and "LICENSE" not in p.name.upper()
        and (p.suffix.lower() not in (".md", ".txt") or p.name.startswith("msg_"))
    ]


def refusals(files: list[Path]) -> tuple[int, int, Counter[str]]:
    """(messages with a From, refused among them, error codes that refused them)."""
    with_from = refused = 0
    codes: Counter[str] = Counter()
    for path in files:
        data = path.read_bytes()
        if parse(data).header("from") is None:
            continue
        with_from += 1
        try:
            (
                Editor(data, repair=True, profile="workmail")
                .add_disclaimer(text=DISCLAIMER)
                .rewrite_subject(prefix="[EXT] ")
                .strip_attachments(match=mimeguard.SES_BLOCKED)
                .result()
            )
        except InvalidMessageError as exc:
            refused += 1
            codes.update({f.code for f in exc.report.findings if f.severity == "error"})
    return with_from, refused, codes


def main(argv: list[str]) -> None:
    root = Path(argv[0]) if argv else Path("../shared/corpus")
    with_from, refused, codes = refusals(corpus(root))
    rate = refused / with_from if with_from else 0.0
    print(f"refused {refused} of {with_from} messages with a From ({rate:.1%})")
    for code, count in codes.most_common():
        print(f"  {code}: {count}")


if __name__ == "__main__":
    main(sys.argv[1:])
