"""``python -m embload``: the same as the ``embload`` command."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
