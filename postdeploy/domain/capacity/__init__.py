"""Capacity planning, pure: history resampled to a grid, seasonality, backtest error, threshold
crossings, urgency and recommendations. The model fitting is in postdeploy.adapters.forecasting;
the method is described in docs/capacity.md."""

from postdeploy.domain.capacity.plan import (
    SOON_DAYS,
    URGENCY_ORDER,
    URGENT_DAYS,
    Assessment,
    Forecast,
    Urgency,
    assess,
    crossing,
    rank,
    recommend,
)
from postdeploy.domain.capacity.series import (
    DAY,
    HOUR,
    MIN_POINTS,
    WEEK,
    Grid,
    HistoryError,
    Seasonality,
    autocorrelation,
    choose_step,
    detect_seasonality,
    detrend,
    mape,
    resample,
    span_text,
)
from postdeploy.domain.capacity.units import (
    RESOURCES,
    format_days,
    format_value,
    parse_quantity,
)

__all__ = [
    "DAY",
    "HOUR",
    "MIN_POINTS",
    "RESOURCES",
    "SOON_DAYS",
    "URGENCY_ORDER",
    "URGENT_DAYS",
    "WEEK",
    "Assessment",
    "Forecast",
    "Grid",
    "HistoryError",
    "Seasonality",
    "Urgency",
    "assess",
    "autocorrelation",
    "choose_step",
    "crossing",
    "detect_seasonality",
    "detrend",
    "format_days",
    "format_value",
    "mape",
    "parse_quantity",
    "rank",
    "recommend",
    "resample",
    "span_text",
]
