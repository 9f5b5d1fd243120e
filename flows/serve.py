"""Serve every deployment of flows/deployments.py in this process (used by `postdeploy up`)."""

from __future__ import annotations

import argparse

from prefect import serve

from flows.deployments import build_deployments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=4, help="concurrent flow runs")
    args = parser.parse_args()
    serve(*build_deployments(), limit=args.limit, print_starting_message=False)


if __name__ == "__main__":
    main()
