"""``python -m engine``: the same command line as ``wargame``."""

from engine.cli.main import main

if __name__ == "__main__":
    main()
