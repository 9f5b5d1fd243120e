"""Causal anomaly detection on one metric series: is the recent shape of the series new?

Each value gets a score in [0, 1) and an alert flag that depend only on it and the values
before it, so the same code serves a live stream and a stored series. See detector.py.
"""

from postdeploy.domain.anomalies.detector import Detector, DetectorConfig, detect

__all__ = ["Detector", "DetectorConfig", "detect"]
