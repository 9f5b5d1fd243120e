"""Prefect Block types of postdeploy: connections and secrets only.

Register them with `prefect block register -m blocks` (or `postdeploy blocks register`).
"""

from blocks.backup import BackupLocation
from blocks.notifier import Notifier
from blocks.prometheus import PrometheusConnection
from blocks.store import StoreConnection

__all__ = ["BackupLocation", "Notifier", "PrometheusConnection", "StoreConnection"]
