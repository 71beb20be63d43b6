"""Run the command line: ``python -m sk_weights --help``."""

import sys

from sk_weights._cli import main

if __name__ == "__main__":
    sys.exit(main())
