"""``python -m fastentropy``: the estimator table on a built-in sample of known entropy."""

from __future__ import annotations

import sys

from ._demo import zipf_demo


def main() -> int:
    print(zipf_demo())
    return 0


if __name__ == "__main__":
    sys.exit(main())
