"""`python -m beluga_temporal`: the `beluga` command line."""

from beluga_temporal.cli import main

if __name__ == "__main__":
    main()
