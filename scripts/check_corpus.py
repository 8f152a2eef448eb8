"""Check the embedded news corpus: schema, evidence spans, lengths and label balance.

Usage: python scripts/check_corpus.py [FILE.jsonl ...]   (default: every file of the corpus)
Exit status 1 when a file breaks a rule; statistics are printed either way.
"""

from __future__ import annotations

import sys
from pathlib import Path

from stancekit.corpus.checks import report

if __name__ == "__main__":
    sys.exit(report([Path(a) for a in sys.argv[1:]]))
