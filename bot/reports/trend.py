"""The trend line drawn through cases over time: a least-squares straight line."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["linear_trend"]


def linear_trend(series: Sequence[int]) -> list[float]:
    """The least-squares line through `series` (equally spaced), one value per point, rounded to 0.1.

    Fewer than two points have no trend: the values themselves.
    """
    if len(series) < 2:
        return [float(v) for v in series]
    x = np.arange(len(series), dtype=float)
    slope, intercept = np.polyfit(x, np.asarray(series, dtype=float), 1)
    return [round(float(slope * i + intercept), 1) for i in range(len(series))]
