"""Small server-rendered SVG charts: no JavaScript, no CDN, readable without colour alone."""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

register = template.Library()

PALETTE = ["#3b5bdb", "#f59f00", "#2f9e44", "#e03131", "#7048e8", "#868e96"]


@register.simple_tag
def bar_chart(rows, series_names, *, maximum=1.0, width=640, label_width=200, bar_height=14):
    """Horizontal grouped bars. ``rows``: [(label, [value per series])]; None draws nothing."""
    rows = list(rows)
    group = bar_height * len(series_names) + 10
    legend_rows = 1 + max((row for _, row in legend_places(series_names, swatch=14, width=width)), default=0)
    height = group * len(rows) + 8 + 16 * legend_rows
    plot = width - label_width - 60
    parts = []
    for row_index, (label, values) in enumerate(rows):
        top = row_index * group
        parts.append(format_html('<text x="0" y="{}" class="label">{}</text>', top + bar_height, label))
        for series_index, value in enumerate(values):
            if value is None:
                continue
            y = top + series_index * bar_height
            length = max(1, plot * min(float(value), maximum) / maximum)
            # format_html escapes its arguments into strings, so numbers are formatted first.
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>'
                    '<text x="{}" y="{}" class="value">{}</text>',
                    label_width,
                    y,
                    f"{length:.1f}",
                    bar_height - 2,
                    PALETTE[series_index % len(PALETTE)],
                    series_names[series_index],
                    _number(value),
                    f"{label_width + length + 4:.1f}",
                    y + bar_height - 3,
                    _number(value),
                )
            )
    legend = _legend(series_names, y=group * len(rows) + 18, width=width)
    return format_html(
        '<svg class="chart" role="img" viewBox="0 0 {} {}" width="100%">{}{}</svg>',
        width,
        height,
        mark_safe("".join(parts)),
        legend,
    )


@register.simple_tag
def line_chart(points, *, name="value", maximum=1.0, width=640, height=200, decimals=None):
    """A line over ordered points ``[(label, value)]``, with the values printed at each point.

    The chart is as wide as its points need, up to ``width``: one point is a small chart,
    not a dot at the edge of an empty one. ``decimals``: print every value so (scores, as
    the tables print them); by default counts are integers and scores have three.
    """
    points = [(label, value) for label, value in points if value is not None]
    if not points:
        return ""
    printed = [_number(value) if decimals is None else f"{float(value):.{decimals}f}" for _, value in points]
    left, top, bottom = 40, 24, 30  # top: room for the value printed above the highest point
    pad = label_room(zip((label for label, _ in points), printed))
    xs, width = spread(len(points), left=left, pad=pad, width=width)
    coords = [
        (x, top + (height - top - bottom) * (1 - min(float(value), maximum) / maximum))
        for x, (_, value) in zip(xs, points)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="4" fill="#3b5bdb"><title>{}: {}</title></circle>'
        '<text x="{}" y="{}" class="value" text-anchor="middle">{}</text>'
        '<text x="{}" y="{}" class="label" text-anchor="middle">{}</text>',
        (
            (f"{x:.1f}", f"{y:.1f}", label, value, f"{x:.1f}", f"{y - 8:.1f}", value, f"{x:.1f}", height - 8, label)
            for (x, y), (label, _), value in zip(coords, points, printed)
        ),
    )
    axis = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ccc"/><text x="0" y="{}" class="label">{}</text>'
        '<text x="0" y="{}" class="label">0</text>',
        left,
        height - bottom,
        f"{width:.1f}",
        height - bottom,
        top + 4,
        maximum,
        height - bottom,
    )
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}">{}'
        '<polyline points="{}" fill="none" stroke="#3b5bdb" stroke-width="2"/>{}</svg>',
        name,
        f"{width:.0f}",
        height,
        f"{width:.0f}",
        axis,
        path,
        dots,
    )


# About 7 px a character at the label sizes; a label centred on a point needs half its width beside it.
CHAR_WIDTH = 7
MAX_STEP = 80
MIN_WIDTH = 160


def label_room(points) -> float:
    """Room beside the first and last point for the label (or printed value) centred on it."""
    longest = max((max(len(str(label)), len(str(value))) for label, value in points), default=0)
    return CHAR_WIDTH * longest / 2 + 6


def spread(count: int, *, left: float, pad: float, width: float, min_width: float = MIN_WIDTH):
    """The x of ``count`` points after an axis ``left`` wide, and the chart's width.

    Points are at most MAX_STEP apart, so a few points make a narrow chart, never wider
    than ``width``; a chart widened to ``min_width`` has its points in the middle.
    """
    step = MAX_STEP if count < 2 else min(MAX_STEP, (width - left - 2 * pad) / (count - 1))
    needed = left + 2 * pad + step * (count - 1)
    chart = max(min_width, needed)
    start = left + pad + (chart - needed) / 2
    return [start + index * step for index in range(count)], chart


def _number(value) -> str:
    """Counts as integers, scores with three decimals."""
    value = float(value)
    return f"{value:.0f}" if value.is_integer() and abs(value) >= 1 else f"{value:.3f}"


def _legend(names, *, y, width):
    return format_html_join(
        "",
        '<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}" class="label">{}</text>',
        (
            (x, y + 16 * row - 9, PALETTE[index % len(PALETTE)], x + 14, y + 16 * row, name)
            for index, ((x, row), name) in enumerate(zip(legend_places(names, swatch=14, width=width), names))
        ),
    )


def legend_places(names, *, swatch: int, left: int = 0, width: int) -> list[tuple[int, int]]:
    """(x, row) of each legend entry: each as wide as its swatch and name, so long names never
    overlap, and onto a new row where the next would pass the chart's right edge.
    """
    places, x, row = [], left, 0
    for name in names:
        entry = swatch + CHAR_WIDTH * len(str(name))
        if x > left and x + entry > width:
            x, row = left, row + 1
        places.append((x, row))
        x += entry + 16
    return places


@register.filter
def heat(count, row_total):
    """Background opacity for a confusion-matrix cell."""
    try:
        share = float(count) / float(row_total) if row_total else 0.0
    except (TypeError, ValueError):
        share = 0.0
    return f"background: rgba(59, 91, 219, {share:.2f})"


@register.simple_tag
def reliability_chart(series, *, size=320):
    """A reliability diagram: per confidence bin, how often each model was right.

    ``series``: [(name, calibration report)] as ml.calibration builds it. The
    diagonal is perfect calibration; a point below it is overconfident. A
    point's area follows the bin's item count, so near-empty bins do not
    draw the eye; empty bins are skipped.
    """
    margin = 36
    plot = size - 2 * margin

    def xy(confidence, accuracy):
        return round(margin + plot * confidence, 1), round(margin + plot * (1 - accuracy), 1)

    total = max((sum(b["count"] for b in report["bins"]) for _, report in series), default=0) or 1
    points = []
    for index, (name, report) in enumerate(series):
        for b in report["bins"]:
            if not b["count"] or b["accuracy"] is None:
                continue
            x, y = xy(b["confidence"], b["accuracy"])
            radius = 3 + 9 * (b["count"] / total) ** 0.5
            points.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="{}" fill="{}" fill-opacity="0.7"><title>{}: {} items at confidence '
                    "{}, right {}</title></circle>",
                    x,
                    y,
                    f"{radius:.1f}",
                    PALETTE[index % len(PALETTE)],
                    name,
                    b["count"],
                    _number(b["confidence"]),
                    _number(b["accuracy"]),
                )
            )
    (x0, y0), (x1, y1) = xy(0, 0), xy(1, 1)
    frame = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999" stroke-dasharray="4 3"/>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ccc"/><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ccc"/>'
        '<text x="{}" y="{}" class="label" text-anchor="middle">confidence</text>'
        '<text x="4" y="{}" class="label">right</text><text x="{}" y="{}" class="label">0</text>'
        '<text x="{}" y="{}" class="label" text-anchor="end">1</text><text x="{}" y="{}" class="label">1</text>',
        x0,
        y0,
        x1,
        y1,
        x0,
        y0,
        x1,
        y0,
        x0,
        y0,
        x0,
        y1,
        size / 2,
        size - 6,
        margin - 8,
        x0,
        y0 + 14,
        x1,
        y0 + 14,
        margin - 14,
        y1 + 4,
    )
    legend = _legend([name for name, _ in series], y=14, width=size)
    return format_html(
        '<svg class="chart reliability" role="img" aria-label="reliability diagram" viewBox="0 0 {} {}" '
        'width="{}">{}{}{}</svg>',
        size,
        size,
        size,
        frame,
        mark_safe("".join(points)),
        legend,
    )
