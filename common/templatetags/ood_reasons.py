"""Why an item was flagged as unlike the model's training data, in words a reviewer reads."""

from django import template

register = template.Library()

# The per-item checks (ml.ood) by the name they are stored under in Content.ood_reasons.
CHECK_LABELS = {
    "garbage": "not readable text",
    "language": "not English",
    "oov": "few known words",
    "surprise": "unusual words",
    "topic": "unlike ML content",
}


@register.filter
def ood_reason_rows(reasons) -> list[tuple[str, str]]:
    """[(what fired, its evidence)] from a {check name: reason} dict, in a stable order."""
    if not isinstance(reasons, dict):
        return []
    order = list(CHECK_LABELS)
    names = sorted(reasons, key=lambda name: (order.index(name) if name in order else len(order), name))
    return [(CHECK_LABELS.get(name, name), str(reasons[name])) for name in names]
