"""``python -m fastentropy``: the command line (see ``python -m fastentropy --help``)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
