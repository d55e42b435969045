"""Gold labels: browse, search, filter, change one (with a note), send back to review, export."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from common.formtools import form_errors_text
from common.permissions import requires
from labeling import selectors
from labeling.formats.parquet import ParquetUnavailable
from labeling.formats.responses import export_response
from labeling.forms import GoldChangeForm, GoldFilterForm
from labeling.models import Content, GoldLabel
from labeling.redirects import redirect_to_next
from labeling.services import GoldChangeRefused, gold_label_change, gold_labels_requeue


@requires("labeling.view_goldlabel")
@require_GET
def gold_list(request):
    form = GoldFilterForm(request.GET, not_filters=("page",))
    # A filter that cannot be applied shows its error and no rows: dropping it would show more than asked for.
    labels = selectors.gold_labels(**form.cleaned_data) if form.is_valid() else selectors.gold_labels().none()
    page = Paginator(labels, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "labeling/gold_list.html", context)


@requires("labeling.view_goldlabel")
@require_GET
def gold_detail(request, content_id: int):
    return _detail(request, content_id, GoldChangeForm())


def _detail(request, content_id: int, form: GoldChangeForm, *, status: int = 200):
    label = get_object_or_404(GoldLabel.objects.select_related("content", "tag", "decided_by"), content_id=content_id)
    context = {"label": label, "form": form, "history": selectors.gold_label_history(content_id=content_id)}
    return render(request, "labeling/gold_detail.html", context, status=status)


@requires("labeling.change_goldlabel")
@require_POST
def gold_change(request, content_id: int):
    form = GoldChangeForm(request.POST)
    if not form.is_valid():
        return _detail(request, content_id, form, status=400)
    try:
        label = gold_label_change(
            content_id=content_id, tag=form.cleaned_data["tag"], user=request.user, note=form.cleaned_data["note"]
        )
    except Content.DoesNotExist:
        raise Http404("no such item") from None
    except GoldChangeRefused as refused:
        form.add_error(None, str(refused))
        return _detail(request, content_id, form, status=400)
    messages.success(request, f"Gold label changed to {label.tag.slug} (version {label.version}).")
    return redirect("labeling:gold-detail", content_id=content_id)


@requires("labeling.requeue_goldlabel")
@require_POST
def gold_requeue(request):
    content_ids = [int(value) for value in request.POST.getlist("content") if value.isdigit()]
    if not content_ids:
        messages.error(request, "Select at least one item.")
    else:
        opened = gold_labels_requeue(content_ids=content_ids, requested_by=request.user)
        messages.success(request, f"{opened} item(s) sent back to review ({len(content_ids) - opened} already queued).")
    return redirect_to_next(request, "labeling:gold-list")


@requires("labeling.export_goldlabel")
@require_GET
def gold_export(request, fmt: str):
    form = GoldFilterForm(request.GET)
    if not form.is_valid():
        # Never a wider export than asked for: someone who asked for the holdout must not get the train split too.
        message = "Nothing exported. " + form_errors_text(form, prefix_names=True)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    try:
        return export_response(fmt, selectors.gold_export_rows(selectors.gold_labels(**form.cleaned_data)))
    except ParquetUnavailable as error:  # an optional extra this install lacks: say which, as plain text
        return HttpResponse(
            f"Nothing exported. {error.message}", status=error.http_status, content_type="text/plain; charset=utf-8"
        )
