"""SVG charts over time: several series on shared day (or check) labels, an optional
reference line (alpha, offline F1), linear or log scale. No JavaScript; each point has a
<title> and each series a legend entry with a distinct dash pattern, so colour is not needed."""

import math

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from common.templatetags.charts import CHAR_WIDTH, PALETTE, legend_places, spread

register = template.Library()

DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 2", "10 4"]
# TOP leaves room for a reference line's name above it; BOTTOM for the day labels (the legend comes below).
LEFT, TOP, BOTTOM = 48, 20, 28
LEGEND_ROW = 16
MIN_WIDTH = 360  # the legend's entries fit beside each other, even with one point


@register.simple_tag
def time_chart(
    labels,
    series,
    *,
    maximum=None,
    minimum=0.0,
    log=False,
    reference=None,
    reference_name="",
    name="chart",
    width=720,
    height=220,
    percent=False,
):
    """``series``: {name: [value or None per label]}. ``log``: log10 y axis (p-values)."""
    labels = list(labels)
    series = {key: list(values) for key, values in dict(series).items()}
    values = [v for vs in series.values() for v in vs if v is not None]
    if not labels or not values:
        return format_html('<p class="muted">No data yet for {}.</p>', name)
    if log:
        minimum = min(minimum or 1e-4, *(v for v in values if v > 0), reference or 1)
        minimum = 10 ** math.floor(math.log10(max(minimum, 1e-12)))
        maximum = 1.0
    else:
        maximum = maximum if maximum is not None else max(max(values), reference or 0) * 1.1 or 1.0
    every = max(1, math.ceil(len(labels) / 10))
    shown = [label for i, label in enumerate(labels) if i % every == 0]
    # Room for half the longest label beside the first and last point, so none is cut off.
    pad = CHAR_WIDTH * max(len(str(label)) for label in shown) / 2 + 6
    xs, width = spread(len(labels), left=LEFT, pad=pad, width=width, min_width=MIN_WIDTH)
    places = legend_places(list(series), swatch=26, left=LEFT, width=width)
    plot_h = height - TOP - BOTTOM - LEGEND_ROW
    height += LEGEND_ROW * max((row for _, row in places), default=0)

    def y_of(value):
        if log:
            value = max(value, minimum)
            share = (math.log10(value) - math.log10(minimum)) / (math.log10(maximum) - math.log10(minimum))
        else:
            share = (min(value, maximum) - minimum) / ((maximum - minimum) or 1)
        return TOP + plot_h * (1 - share)

    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ccc"/>'
            '<text x="0" y="{}" class="label">{}</text><text x="0" y="{}" class="label">{}</text>',
            LEFT,
            TOP + plot_h,
            f"{width:.1f}",
            TOP + plot_h,
            TOP + 8,
            _fmt(maximum, percent),
            TOP + plot_h,
            _fmt(minimum, percent),
        )
    ]
    parts.extend(
        format_html(
            '<text x="{}" y="{}" class="label" text-anchor="middle">{}</text>', f"{xs[i]:.1f}", TOP + plot_h + 16, label
        )
        for i, label in enumerate(labels)
        if i % every == 0
    )
    if reference is not None:
        y = y_of(reference)
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#e03131" stroke-dasharray="4 4"/>'
                '<text x="{}" y="{}" class="label" text-anchor="end">{} {}</text>',
                LEFT,
                f"{y:.1f}",
                f"{width:.1f}",
                f"{y:.1f}",
                f"{width:.1f}",
                f"{y - 4:.1f}",
                reference_name,
                _fmt(reference, percent),
            )
        )
    for index, (key, vs) in enumerate(series.items()):
        colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
        points = [(xs[i], y_of(v), labels[i], v) for i, v in enumerate(vs[: len(labels)]) if v is not None]
        if len(points) > 1:
            parts.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}"/>',
                    " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points),
                    colour,
                    dash,
                )
            )
        parts.append(
            format_html_join(
                "",
                '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{} {}: {}</title></circle>',
                ((f"{x:.1f}", f"{y:.1f}", colour, key, label, _fmt(v, percent)) for x, y, label, v in points),
            )
        )
    legend_y = TOP + plot_h + BOTTOM + 4
    legend = format_html_join(
        "",
        (
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" stroke-dasharray="{}"/>'
            '<text x="{}" y="{}" class="label">{}</text>'
        ),
        (
            (
                x,
                legend_y + LEGEND_ROW * row,
                x + 22,
                legend_y + LEGEND_ROW * row,
                PALETTE[i % len(PALETTE)],
                DASHES[i % len(DASHES)],
                x + 26,
                legend_y + LEGEND_ROW * row + 4,
                key,
            )
            for i, ((x, row), key) in enumerate(zip(places, series))
        ),
    )
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}">{}{}</svg>',
        name,
        f"{width:.0f}",
        height,
        f"{width:.0f}",
        mark_safe("".join(str(part) for part in parts)),
        legend,
    )


def _fmt(value, percent=False):
    if percent:
        return f"{value:.1%}"
    if value != 0 and abs(value) < 0.001:
        return f"{value:.0e}"
    return f"{value:.3g}"
