"""Turn an emerging topic (a cluster on /monitoring/) into a tag: admins only."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from common.errors import ApplicationError, page_error
from predictions.models import EmergingTopic
from predictions.selectors.emerging import topic_items_sent_to_review
from predictions.services import emerging_topic_to_tag


class NewTagForm(forms.Form):
    slug = forms.SlugField(max_length=64)
    name = forms.CharField(max_length=100)


def can_create_tags(user) -> bool:
    return user.has_perm("labeling.add_tag")


@login_required
@require_POST
def emerging_topic_tag(request, topic_id: int):
    if not can_create_tags(request.user):
        raise PermissionDenied
    topic = get_object_or_404(EmergingTopic, pk=topic_id)
    form = NewTagForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(
            f"{field}: {' '.join(str(error) for error in errors)}" for field, errors in form.errors.items()
        )
        messages.error(request, f"No tag created ({problems}).")
        return redirect("monitoring:page")
    try:
        tag = emerging_topic_to_tag(
            topic=topic, slug=form.cleaned_data["slug"], name=form.cleaned_data["name"], user=request.user
        )
    except ApplicationError as error:
        page_error(request, error, failed="No tag created")
        return redirect("monitoring:page")
    # Items with a gold label, or already queued for this reason, are not queued again: say how many went.
    sent = topic_items_sent_to_review(topic)
    messages.success(
        request,
        f"Tag '{tag.slug}' created; {sent} of the topic's {topic.size} items went to the review queue "
        "(items with a gold label or already queued are not queued again), "
        "and the next retrain learns the class from the answers.",
    )
    return redirect("monitoring:page")
