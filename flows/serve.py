"""Serve every deployment of flows/deployments.py in this process (used by `postdeploy up`)."""

from __future__ import annotations

import argparse

from prefect import serve

from flows.deployments import build_deployments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=4, help="concurrent flow runs")
    args = parser.parse_args()
    from postdeploy.catalog import load_catalog
    from postdeploy.settings import get_settings

    services = [s.name for s in load_catalog(get_settings().catalog).services]
    serve(*build_deployments(services), limit=args.limit, print_starting_message=False)


if __name__ == "__main__":
    main()
