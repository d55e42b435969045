"""SVG charts over time: several series on shared day (or check) labels, an optional
reference line (alpha, offline F1), linear or log scale. No JavaScript; each point has a
<title> and each series a legend entry with a distinct dash pattern, so colour is not needed."""
import math

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from labeling.templatetags.charts import PALETTE, legend_starts

register = template.Library()

DASHES = ["", "6 3", "2 3", "8 3 2 3", "1 2", "10 4"]
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 12, 44


@register.simple_tag
def time_chart(labels, series, *, maximum=None, minimum=0.0, log=False, reference=None, reference_name="",
               name="chart", width=720, height=220, percent=False):
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
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    step = plot_w / max(1, len(labels) - 1)

    def y_of(value):
        if log:
            value = max(value, minimum)
            share = (math.log10(value) - math.log10(minimum)) / (math.log10(maximum) - math.log10(minimum))
        else:
            share = (min(value, maximum) - minimum) / ((maximum - minimum) or 1)
        return TOP + plot_h * (1 - share)

    parts = [format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#ccc"/>'
        '<text x="0" y="{}" class="label">{}</text><text x="0" y="{}" class="label">{}</text>',
        LEFT, TOP + plot_h, LEFT + plot_w, TOP + plot_h,
        TOP + 8, _fmt(maximum, percent), TOP + plot_h, _fmt(minimum, percent),
    )]
    every = max(1, math.ceil(len(labels) / 10))
    parts.extend(
        format_html('<text x="{}" y="{}" class="label" text-anchor="middle">{}</text>',
                    f"{LEFT + i * step:.1f}", height - BOTTOM + 16, label)
        for i, label in enumerate(labels) if i % every == 0
    )
    if reference is not None:
        y = y_of(reference)
        parts.append(format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#e03131" stroke-dasharray="4 4"/>'
            '<text x="{}" y="{}" class="label" text-anchor="end">{} {}</text>',
            LEFT, f"{y:.1f}", LEFT + plot_w, f"{y:.1f}", LEFT + plot_w, f"{y - 4:.1f}", reference_name,
            _fmt(reference, percent),
        ))
    for index, (key, vs) in enumerate(series.items()):
        colour, dash = PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)]
        points = [(LEFT + i * step, y_of(v), labels[i], v) for i, v in enumerate(vs[: len(labels)]) if v is not None]
        if len(points) > 1:
            parts.append(format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}"/>',
                " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points), colour, dash,
            ))
        parts.append(format_html_join("", '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{} {}: {}</title></circle>', (
            (f"{x:.1f}", f"{y:.1f}", colour, key, label, _fmt(v, percent)) for x, y, label, v in points
        )))
    legend = format_html_join("", (
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" stroke-dasharray="{}"/>'
        '<text x="{}" y="{}" class="label">{}</text>'
    ), (
        (LEFT + start, height - 8, LEFT + start + 22, height - 8, PALETTE[i % len(PALETTE)],
         DASHES[i % len(DASHES)], LEFT + start + 26, height - 4, key)
        for i, (start, key) in enumerate(zip(legend_starts(list(series), swatch=26), series))
    ))
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%">{}{}</svg>',
        name, width, height, mark_safe("".join(str(part) for part in parts)), legend,
    )


def _fmt(value, percent=False):
    if percent:
        return f"{value:.1%}"
    if value != 0 and abs(value) < 0.001:
        return f"{value:.0e}"
    return f"{value:.3g}"
