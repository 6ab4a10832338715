"""``python -m flux_sdk._cli``: the ``flux`` command without the console script."""

from . import main

if __name__ == "__main__":
    raise SystemExit(main())
