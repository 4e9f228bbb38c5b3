"""``python -m tests.builders.demo DIR``: build the demo backup used by ``make demo``."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.builders.sample import build_sample


def main(argv: list[str]) -> int:
    """Build the sample backup into the folder given (replacing it)."""
    target = Path(argv[1] if len(argv) > 1 else "demo/backup")
    if target.exists():
        shutil.rmtree(target)
    sample = build_sample(target)
    print(f"built a sample iPhone backup in {target} ({sample.counts['manifest_rows']} files listed)")
    print("planted traces from the public indicator sets:")
    for p in sample.planted:
        print(f"  {p.collection:<24} {p.indicator_type:<20} {p.indicator}  ({p.source})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
