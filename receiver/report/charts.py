"""The burden report's charts, drawn by matplotlib as inline SVG (so the HTML opens offline).

Apart from the formats because the charts are the HTML report's slow part and matplotlib its
heaviest import (done inside `charts`, only when an HTML report is drawn): each chart is
drawn for speed as well as looks, with the cyclic collector paused around the figures.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from receiver.report.load import cyclic_gc_paused
from rules.severity import SEVERITIES
from scheduler.burden import BurdenReport

if TYPE_CHECKING:  # matplotlib is imported only when a chart is drawn
    from matplotlib.typing import RcKeyType

# The most people the per-night chart draws a row for (the busiest nights first).
CHART_PEOPLE = 40


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _margins(figure: Any, labels: Iterable[str], *, right: float = 0.25) -> None:
    # Fixed margins, wide enough for the longest tick label (about 0.08 in a character at
    # 9 pt): bbox_inches="tight" would draw each chart twice to measure it.
    width, height = figure.get_size_inches()
    left = 0.35 + 0.08 * max((len(label) for label in labels), default=3)
    figure.subplots_adjust(
        left=min(left / width, 0.4),
        right=1 - right / width,
        top=1 - 0.35 / height,
        bottom=0.55 / height,
    )


def _row_labels(axes: Any, labels: Sequence[str]) -> None:
    # One text per row instead of a tick per row: a tick is five artists (three lines, two
    # texts), and these charts have up to 40 rows.
    axes.set_yticks([])
    place = axes.get_yaxis_transform()
    for row, label in enumerate(labels):
        axes.text(-0.008, row, label, transform=place, ha="right", va="center")


def _bars(
    axes: Any,
    cells: Sequence[tuple[float, float, float, float]],
    colour: str,
    label: str | None = None,
) -> None:
    # Bars (x, width, y, height) as one collection, as bar / barh draw them but without a
    # patch, a transform and an update of the axes' limits per bar: the caller sets limits.
    from matplotlib.collections import PolyCollection

    verts = [((x, y), (x + w, y), (x + w, y + h), (x, y + h)) for x, w, y, h in cells]
    collection = PolyCollection(verts, facecolors=colour, edgecolors="none", label=label)
    axes.add_collection(collection, autolim=False)


def charts(report: BurdenReport) -> dict[str, str]:
    """The three charts as inline SVG: pages per night per person, by hour, severity mix."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    # Drawn for speed as well as looks (an HTML report is a few hundred ms of matplotlib):
    # the heat map is one image, not a mesh of 1,000 cells; ticks are few; margins are fixed.
    style: dict[RcKeyType, Any] = {
        "svg.fonttype": "none",
        "svg.hashsalt": "onwatch",
        "font.size": 9,
    }
    found: dict[str, str] = {}
    # Figures are reference cycles: they wait for the collector, which then runs once.
    with matplotlib.rc_context(style), cyclic_gc_paused():
        first = report.month.start.date() - timedelta(days=1)
        days = [
            first + timedelta(days=n)
            for n in range((report.month.end - report.month.start).days + 1)
        ]
        busiest = sorted(
            (p for p in report.people if p.night_pages),
            key=lambda p: (-p.night_pages, p.name),
        )[:CHART_PEOPLE]
        figure = Figure(figsize=(10, 1.3 + 0.2 * max(len(busiest), 1)))
        axes = figure.add_subplot()
        _margins(figure, [p.name for p in busiest], right=0.8)  # and the colour bar's
        if busiest:
            grid = [[p.night_pages_by_night.get(day, 0) for day in days] for p in busiest]
            # One image, its cells drawn as sharp squares by the browser.
            image = axes.imshow(grid, cmap="Reds", vmin=0, aspect="auto", interpolation="none")
            bar = figure.colorbar(image, ax=axes, label="night pages", pad=0.015, fraction=0.025)
            bar.locator = MaxNLocator(integer=True)  # counts: no 0.5 of a page
            bar.update_ticks()
            _row_labels(axes, [p.name for p in busiest])
            axes.set_xticks(range(0, len(days), 2), [f"{d:%d}" for d in days[::2]])
        else:
            axes.text(0.5, 0.5, "no night pages this month", ha="center", va="center")
            axes.set_axis_off()
        axes.set_title(f"Night pages per night, per person ({report.month.label}, by night start)")
        found["pages_per_night"] = _svg(figure)

        figure = Figure(figsize=(10, 3))
        axes = figure.add_subplot()
        _margins(figure, [str(max(report.pages_by_hour, default=0))])
        hourly = [(hour - 0.4, 0.8, 0, n) for hour, n in enumerate(report.pages_by_hour)]
        _bars(axes, hourly, "#4c72b0")
        axes.set_ylim(0, 1.05 * max(report.pages_by_hour, default=0) or 1)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xticks(range(0, 24, 2))
        axes.set_xlim(-0.6, 23.6)
        axes.set_xlabel("hour of day, on the paged person's own clock")
        axes.set_ylabel("pages")
        axes.set_title("Pages by hour of day")
        figure.subplots_adjust(bottom=0.7 / 3)  # room for the axis label
        found["pages_by_hour"] = _svg(figure)

        names = [r.name for r in report.rotations]
        figure = Figure(figsize=(10, 1.5 + 0.3 * max(len(names), 1)))
        axes = figure.add_subplot()
        _margins(figure, names)
        colours = {"SEV1": "#c0392b", "SEV2": "#e67e22", "SEV3": "#f1c40f", "SEV4": "#95a5a6"}
        left = [0] * len(names)
        for severity in SEVERITIES:
            counts = [r.incidents_by_severity[severity] for r in report.rotations]
            pairs = enumerate(zip(left, counts, strict=True))
            cells = [(x, n, row - 0.4, 0.8) for row, (x, n) in pairs]
            _bars(axes, cells, colours[severity], label=severity)
            left = [a + b for a, b in zip(left, counts, strict=True)]
        axes.set_xlim(0, 1.05 * max(left, default=0) or 1)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        _row_labels(axes, names)
        if names:
            axes.set_ylim(len(names) - 0.5, -0.5)  # the first rotation on top
        axes.legend(loc="lower right", bbox_to_anchor=(1, 1), ncols=4, frameon=False)
        axes.set_xlabel("incidents opened")
        axes.set_title("Severity mix per rotation", loc="left")
        figure.subplots_adjust(bottom=0.75 / figure.get_size_inches()[1])
        found["severity_mix"] = _svg(figure)
    return found
