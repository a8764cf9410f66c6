"""Server-side SVG charts for the coordinators' dashboard, drawn with matplotlib (installed with Rasa).

The SVGs are served from our own origin as images, so the pages' CSP needs no exception: matplotlib styles its
SVG with inline style attributes, which an image may carry but the page itself (style-src 'self') may not.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field

# Okabe–Ito: distinguishable with the common kinds of colour blindness, and in greyscale by their order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
STACKED, GROUPED, LINES, HORIZONTAL = "stacked", "grouped", "lines", "horizontal"
NO_DATA = "Ei vielä tietoja tältä ajalta"

# matplotlib's global state (rcParams, the font cache) is not thread-safe; charts are drawn one at a time.
_lock = threading.Lock()


@dataclass
class ChartData:
    """What one chart plots: a value for each category in each series (suppressed cells are 0 or None)."""

    kind: str
    categories: list[str]
    series: list[tuple[str, list[float | None]]] = field(default_factory=list)
    percent: bool = False
    y_label: str = ""

    @property
    def empty(self) -> bool:
        return not self.categories or not any(v for _label, values in self.series for v in values if v)


def render_svg(chart: ChartData) -> bytes:
    """The chart as a standalone SVG document, deterministic for the same data."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    with _lock:
        matplotlib.rcParams["svg.hashsalt"] = "perheopas"
        height = max(3.2, 0.45 * len(chart.categories) + 1) if chart.kind == HORIZONTAL else 3.4
        fig = Figure(figsize=(8.5, height), dpi=100)
        ax = fig.subplots()
        if chart.empty:
            ax.axis("off")
            ax.text(0.5, 0.5, NO_DATA, ha="center", va="center", fontsize=12)
        else:
            _draw(ax, chart)
            ax.spines["top"].set_visible(False)
            ax.spines["right"].set_visible(False)
            axis = ax.xaxis if chart.kind == HORIZONTAL else ax.yaxis
            if chart.percent:
                axis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            else:
                axis.set_major_locator(MaxNLocator(integer=True))
            if chart.y_label:
                (ax.set_xlabel if chart.kind == HORIZONTAL else ax.set_ylabel)(chart.y_label)
            if len(chart.series) > 1:
                ax.legend(frameon=False, fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        out = io.BytesIO()
        fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    return out.getvalue()


def _draw(ax: object, chart: ChartData) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    positions = list(range(len(chart.categories)))
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(chart.series))]
    if chart.kind == LINES:
        for (label, values), colour in zip(chart.series, colours, strict=True):
            ax.plot(positions, [float("nan") if v is None else v for v in values], marker="o", label=label,
                    color=colour)
        ax.set_ylim(bottom=0)
    elif chart.kind == GROUPED:
        width = 0.8 / max(1, len(chart.series))
        for index, ((label, values), colour) in enumerate(zip(chart.series, colours, strict=True)):
            ax.bar([p + (index - (len(chart.series) - 1) / 2) * width for p in positions],
                   [v or 0 for v in values], width=width, label=label, color=colour)
    else:
        base = [0.0] * len(positions)
        bar = ax.barh if chart.kind == HORIZONTAL else ax.bar
        for (label, values), colour in zip(chart.series, colours, strict=True):
            heights = [float(v or 0) for v in values]
            if chart.kind == HORIZONTAL:
                bar(positions, heights, left=base, label=label, color=colour)
            else:
                bar(positions, heights, bottom=base, label=label, color=colour)
            base = [b + h for b, h in zip(base, heights, strict=True)]
    if chart.kind == HORIZONTAL:
        ax.set_yticks(positions, chart.categories)
        ax.invert_yaxis()
    else:
        step = max(1, len(positions) // 14)
        ax.set_xticks(positions[::step], chart.categories[::step], rotation=45 if len(positions) > 8 else 0,
                      ha="right" if len(positions) > 8 else "center")
