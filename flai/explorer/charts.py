"""Server-rendered SVG charts (no script, no external assets).

Each function returns an inline ``<svg>`` element as :class:`markupsafe.Markup`: a line chart
of several series, a bar chart, a stacked bar chart and a progress bar. Every text that goes
into the SVG is escaped. Each chart carries ``class="chart"``, a ``<title>`` and
``data-points``/``data-bars`` counts so a test can check that something was drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = [
    "MARKERS",
    "PALETTE",
    "Series",
    "bar_chart",
    "line_chart",
    "progress_bar",
    "stacked_bars",
]

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)

_PAD_LEFT, _PAD_RIGHT, _PAD_TOP, _PAD_BOTTOM = 64, 16, 28, 44
#: A series of at most this many points gets a marker (with a tooltip) at each point.
MARKERS = 60


@dataclass(frozen=True)
class Series:
    """One line of a :func:`line_chart`: a name and its (x, y) points in x order."""

    name: str
    points: tuple[tuple[float, float], ...]


def _fmt(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 1e9:
        return f"{value / 1e9:.3g}G"
    if magnitude >= 1e6:
        return f"{value / 1e6:.3g}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.3g}k"
    if magnitude >= 1 or magnitude == 0:
        return f"{value:.4g}"
    return f"{value:.3g}"


def _frame(width: int, height: int, title: str, kind: str, count: int) -> list[str]:
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{escape(title)}" data-chart="{kind}" data-{kind}="{count}">'
    )
    heading = (
        f'<text x="{width / 2:.0f}" y="16" text-anchor="middle" class="chart-title">'
        f"{escape(title)}</text>"
    )
    return [svg, f"<title>{escape(title)}</title>", heading]


def _y_axis(parts: list[str], low: float, high: float, w: int, h: int) -> None:
    plot_h = h - _PAD_TOP - _PAD_BOTTOM
    for i in range(5):
        value = low + (high - low) * i / 4
        y = _PAD_TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{_PAD_LEFT}" x2="{w - _PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'class="grid"/><text x="{_PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'class="tick">{escape(_fmt(value))}</text>'
        )


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    width: int = 720,
    height: int = 280,
) -> Markup:
    """Lines of every series on shared axes, with a legend (and a marker with a tooltip at
    each point of a series short enough, see :data:`MARKERS`)."""
    points = [pt for s in series for pt in s.points]
    legend_rows = 0 if len(series) < 2 else (len(series) + 3) // 4
    parts = _frame(width, height + 16 * legend_rows, title, "points", len(points))
    if not points:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">no data</text>')
        return Markup("".join(parts) + "</svg>")
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        y1 = y0 + 1
    plot_w = width - _PAD_LEFT - _PAD_RIGHT
    plot_h = height - _PAD_TOP - _PAD_BOTTOM

    def sx(x: float) -> float:
        return _PAD_LEFT + plot_w * (x - x0) / (x1 - x0)

    def sy(y: float) -> float:
        return _PAD_TOP + plot_h - plot_h * (y - y0) / (y1 - y0)

    _y_axis(parts, y0, y1, width, height)
    for i in range(5):
        x = x0 + (x1 - x0) * i / 4
        parts.append(
            f'<text x="{sx(x):.1f}" y="{height - _PAD_BOTTOM + 16}" text-anchor="middle" '
            f'class="tick">{escape(_fmt(x))}</text>'
        )
    parts.append(
        f'<text x="{_PAD_LEFT + plot_w / 2:.0f}" y="{height - 6}" text-anchor="middle" '
        f'class="axis">{escape(x_label)}</text>'
        f'<text x="12" y="{_PAD_TOP + plot_h / 2:.0f}" text-anchor="middle" class="axis" '
        f'transform="rotate(-90 12 {_PAD_TOP + plot_h / 2:.0f})">{escape(y_label)}</text>'
    )
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in s.points)
        parts.append(
            f'<polyline class="series" fill="none" stroke="{color}" stroke-width="2" '
            f'points="{path}"><title>{escape(s.name)}</title></polyline>'
        )
        for x, y in s.points if len(s.points) <= MARKERS else ():
            parts.append(
                f'<circle class="point" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{color}">'
                f"<title>{escape(s.name)}: {escape(_fmt(y))} at {escape(_fmt(x))}</title></circle>"
            )
        if not legend_rows:
            continue
        lx = _PAD_LEFT + (i % 4) * (plot_w / 4)
        ly = height + 2 + (i // 4) * 16
        parts.append(
            f'<rect x="{lx:.0f}" y="{ly:.0f}" width="10" height="10" fill="{color}"/>'
            f'<text x="{lx + 14:.0f}" y="{ly + 9:.0f}" class="legend">{escape(s.name)}</text>'
        )
    return Markup("".join(parts) + "</svg>")


def bar_chart(
    bars: Sequence[tuple[str, float]],
    *,
    title: str,
    y_label: str,
    width: int = 720,
    height: int = 260,
) -> Markup:
    """One bar per (label, value), labelled under the axis."""
    return stacked_bars(
        [label for label, _ in bars],
        [(y_label, [value for _, value in bars])],
        title=title,
        y_label=y_label,
        width=width,
        height=height,
        legend=False,
    )


def stacked_bars(
    categories: Sequence[str],
    stacks: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    y_label: str,
    width: int = 720,
    height: int = 260,
    legend: bool = True,
) -> Markup:
    """One bar per category, made of one segment per stack (name, value per category)."""
    count = sum(1 for _, values in stacks for v in values if v > 0)
    parts = _frame(width, height, title, "bars", count)
    totals = [sum(values[i] for _, values in stacks) for i in range(len(categories))]
    if not categories or max(totals, default=0) <= 0:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">no data</text>')
        return Markup("".join(parts) + "</svg>")
    high = max(totals)
    plot_w = width - _PAD_LEFT - _PAD_RIGHT
    plot_h = height - _PAD_TOP - _PAD_BOTTOM
    _y_axis(parts, 0.0, high, width, height)
    slot = plot_w / len(categories)
    bar_w = max(2.0, min(48.0, slot * 0.7))
    for i, name in enumerate(categories):
        x = _PAD_LEFT + slot * i + (slot - bar_w) / 2
        base = 0.0
        for j, (stack, values) in enumerate(stacks):
            value = values[i]
            if value <= 0:
                continue
            top = base + value
            y = _PAD_TOP + plot_h - plot_h * top / high
            h = plot_h * value / high
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{max(h, 0.5):.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(name)} · {escape(stack)}: {escape(_fmt(value))}</title></rect>"
            )
            base = top
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height - _PAD_BOTTOM + 14}" text-anchor="middle" '
            f'class="tick">{escape(name[:14])}</text>'
        )
    if legend:
        for j, (stack, _) in enumerate(stacks):
            lx = _PAD_LEFT + 8 + j * 130
            parts.append(
                f'<rect x="{lx}" y="{_PAD_TOP - 2}" width="10" height="10" '
                f'fill="{PALETTE[j % len(PALETTE)]}"/><text x="{lx + 14}" y="{_PAD_TOP + 7}" '
                f'class="legend">{escape(stack)}</text>'
            )
    parts.append(
        f'<text x="12" y="{_PAD_TOP + plot_h / 2:.0f}" text-anchor="middle" class="axis" '
        f'transform="rotate(-90 12 {_PAD_TOP + plot_h / 2:.0f})">{escape(y_label)}</text>'
    )
    return Markup("".join(parts) + "</svg>")


def progress_bar(value: float, total: float, *, title: str, width: int = 420) -> Markup:
    """A horizontal bar filled to ``value / total`` (capped at 100 %), with the percentage."""
    share = 0.0 if total <= 0 else max(0.0, min(1.0, value / total))
    parts = _frame(width, 44, title, "bars", 1 if share > 0 else 0)
    parts.append(
        f'<rect x="0" y="22" width="{width}" height="16" rx="3" class="track"/>'
        f'<rect class="bar" x="0" y="22" width="{width * share:.1f}" height="16" rx="3" '
        f'fill="{PALETTE[2]}"/><text x="{width / 2:.0f}" y="35" text-anchor="middle" '
        f'class="legend">{share * 100:.1f} %</text>'
    )
    return Markup("".join(parts) + "</svg>")
