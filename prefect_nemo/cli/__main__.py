"""`python -m prefect_nemo.cli`, the same as the `prefect-nemo` script."""

from prefect_nemo.cli import main

if __name__ == "__main__":
    main()
