"""Prefect Block types of postdeploy: connections and secrets only.

Register them with `prefect block register -m blocks` (or `postdeploy blocks register`).
"""

from blocks.notifier import Notifier
from blocks.prometheus import PrometheusConnection
from blocks.store import StoreConnection

__all__ = ["Notifier", "PrometheusConnection", "StoreConnection"]
