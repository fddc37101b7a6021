"""Draw the stats chart: daily average satisfaction next to daily offer conversion, as a PNG."""

from __future__ import annotations

import io
from typing import Any

from storage.stats_queries import DailyPoint

SATISFACTION_COLOUR = "#1f77b4"
CONVERSION_COLOUR = "#d62728"


def render_chart(daily: list[DailyPoint], title: str = "Concierge: satisfaction and offer conversion") -> bytes:
    """Return a PNG of daily average rating (1–5, left axis) and offer conversion (%, right axis)."""
    # Imported on the first chart: matplotlib adds about half a second to every start otherwise.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    satisfaction = figure.add_subplot(1, 1, 1)
    conversion = satisfaction.twinx()
    satisfaction.set_title(title)
    satisfaction.set_xlabel("day (UTC)")
    satisfaction.set_ylabel("average rating (1–5)", color=SATISFACTION_COLOUR)
    conversion.set_ylabel("offers accepted (%)", color=CONVERSION_COLOUR)
    satisfaction.set_ylim(0.8, 5.2)
    conversion.set_ylim(-4, 104)
    satisfaction.grid(True, alpha=0.3)
    if not daily:
        satisfaction.text(0.5, 0.5, "No data yet: no ratings or offers in this period",
                          transform=satisfaction.transAxes, ha="center", va="center", fontsize=13, color="#555555")
        satisfaction.set_xticks([])
    else:
        rated = [p for p in daily if p.csat_average is not None]
        offered = [p for p in daily if p.conversion is not None]
        rated_days: Any = [p.day for p in rated]  # matplotlib's date units convert them
        offered_days: Any = [p.day for p in offered]
        satisfaction.plot(rated_days, [float(p.csat_average or 0.0) for p in rated],
                          marker="o", markersize=3, color=SATISFACTION_COLOUR, label="average rating")
        conversion.plot(offered_days, [100 * (p.conversion or 0.0) for p in offered],
                        marker="s", markersize=3, color=CONVERSION_COLOUR, label="offer conversion")
        lines = satisfaction.get_lines() + conversion.get_lines()
        satisfaction.legend(lines, [str(line.get_label()) for line in lines], loc="lower left", fontsize=9)
        figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
