"""Gold labels: browse, search, filter, send back to review, export."""
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from labeling import selectors
from labeling.exporting import csv_lines, jsonl_lines
from labeling.forms import GoldFilterForm
from labeling.permissions import requires
from labeling.services import gold_labels_requeue

EXPORTS = {
    "csv": (csv_lines, "text/csv; charset=utf-8"),
    "jsonl": (jsonl_lines, "application/x-ndjson; charset=utf-8"),
}


def _filters(request) -> tuple[GoldFilterForm, dict]:
    form = GoldFilterForm(request.GET or None)
    return form, (form.cleaned_data if form.is_valid() else {})


@requires("labeling.view_goldlabel")
@require_GET
def gold_list(request):
    form, filters = _filters(request)
    page = Paginator(selectors.gold_labels(**filters), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "labeling/gold_list.html", context)


@requires("labeling.requeue_goldlabel")
@require_POST
def gold_requeue(request):
    content_ids = [int(value) for value in request.POST.getlist("content") if value.isdigit()]
    if not content_ids:
        messages.error(request, "Select at least one item.")
    else:
        opened = gold_labels_requeue(content_ids=content_ids, requested_by=request.user)
        messages.success(request, f"{opened} item(s) sent back to review ({len(content_ids) - opened} already queued).")
    return redirect(request.POST.get("next") or "labeling:gold-list")


@requires("labeling.export_goldlabel")
@require_GET
def gold_export(request, fmt: str):
    lines, content_type = EXPORTS[fmt]
    _, filters = _filters(request)
    rows = selectors.gold_export_rows(selectors.gold_labels(**filters))
    response = StreamingHttpResponse(lines(rows), content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="tagloop-gold-{stamp}.{fmt}"'
    return response
