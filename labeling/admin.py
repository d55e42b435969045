from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse

from labeling.formats import IMPORT_FORMATS, NATIVE, FieldMapping, MappingError, parse_bytes, parse_label_map
from labeling.import_preview import preview_lines
from labeling.models import Annotation, Content, GoldLabel, ReviewTask, SourceToken, Tag, WrongTagReport
from labeling.parsing import ImportFileError
from labeling.selectors import tag_slugs
from labeling.services import (
    content_dismiss_out_of_distribution,
    content_import,
    content_import_plan,
    source_token_create,
    source_token_revoke,
)

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """The tag set and its guidelines, shown on the review screen (key G) and on the public tag pages."""

    list_display = ["slug", "name", "position", "is_active", "has_guideline"]
    list_editable = ["position", "is_active"]
    fields = ["slug", "name", "position", "is_active", "definition", "examples"]

    @admin.display(boolean=True, description="guideline")
    def has_guideline(self, tag):
        return bool(tag.definition.strip())


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV, JSON list or JSONL with id, created_on, title, description and optional tag")
    source = forms.CharField(initial="import", max_length=100)
    strict = forms.BooleanField(
        required=False, label="Import nothing if any row is invalid", help_text="like the command's --strict"
    )
    format = forms.ChoiceField(
        choices=[(name, name) for name in IMPORT_FORMATS],
        required=False,
        help_text="whose export the file is (tagloop: our own columns); see the README for each tool's fields",
    )
    label_field = forms.CharField(required=False, max_length=100, help_text="optional: the label's field or control")
    label_map = forms.CharField(
        required=False,
        max_length=2000,
        help_text="optional: the file's labels to our tags, e.g. Vision=computer-vision",
    )
    dry_run = forms.BooleanField(
        required=False, label="Preview only", help_text="show what would change, write nothing"
    )


@admin.register(Content)
class ContentAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "source",
        "external_id",
        "current_tag",
        "current_tag_origin",
        "is_out_of_distribution",
        "ood_dismissed",
        "created_on",
    ]
    list_filter = ["source", "current_tag", "current_tag_origin", "is_out_of_distribution", "ood_dismissed"]
    search_fields = ["title", "description", "external_id"]
    readonly_fields = ["text_hash", "ingested_at", "current_probabilities", "ood_reasons"]
    change_list_template = "admin/labeling/content/change_list.html"
    actions = ["mark_ood_false_alarm"]

    @admin.action(description="Mark the out-of-distribution flag as a false alarm", permissions=["change"])
    def mark_ood_false_alarm(self, request, queryset):
        count = content_dismiss_out_of_distribution(content_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request, f"{count} item(s) marked as false alarms; their model tag shows from the next prediction pass."
        )

    def get_urls(self):
        extra = [path("import/", self.admin_site.admin_view(self.import_view), name="labeling_content_import")]
        return extra + super().get_urls()

    def import_view(self, request):
        if not request.user.has_perm("labeling.import_content"):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        report = None
        preview = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            parsed = self._parse(request, data)
            if parsed is None:
                report = []
            elif data["dry_run"]:
                plan = content_import_plan(
                    rows=parsed.rows, source=data["source"], answers=parsed.answers, disputed=parsed.disputed
                )
                preview = preview_lines(plan, parsed.errors, strict=data["strict"])
            else:
                report = self._import(request, data, parsed)
                if report is None:
                    return redirect(reverse("admin:labeling_content_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "report": report,
            "preview": preview,
            "title": "Import content",
        }
        return render(request, "admin/labeling/content/import.html", context)

    def _parse(self, request, data):
        upload = data["file"]
        try:
            if upload.size > MAX_UPLOAD_BYTES:
                raise ImportFileError(f"larger than {MAX_UPLOAD_BYTES // 2**20} MB")
            mapping = FieldMapping(label=data["label_field"] or None, label_map=parse_label_map(data["label_map"]))
            return parse_bytes(
                upload.read(), name=upload.name, fmt=data["format"] or NATIVE, tags=tag_slugs(), mapping=mapping
            )
        except (ImportFileError, MappingError) as exc:
            messages.error(request, f"Nothing was imported from {upload.name}: {exc}")
            return None

    def _import(self, request, data, parsed):
        summary = content_import(
            rows=parsed.rows,
            source=data["source"],
            errors=parsed.errors,
            strict=data["strict"],
            answers=parsed.answers,
            disputed=parsed.disputed,
        )
        _report_import(request, data["file"].name, summary)
        return [str(error) for error in summary.errors] or None


def _report_import(request, name, summary):
    # The admin capitalises a message's first letter, so it must not start with the file name.
    if not summary.accepted:
        messages.error(request, f"Nothing was imported from {name}: {summary.as_line()}")
    elif summary.rejected:
        messages.warning(request, f"Imported {name}: {summary.as_line()}")
    else:
        messages.success(request, f"Imported {name}: {summary.as_line()}")


@admin.register(GoldLabel)
class GoldLabelAdmin(admin.ModelAdmin):
    list_display = ["content", "tag", "provenance", "split", "version", "decided_by", "decided_at"]
    list_filter = ["tag", "provenance", "split"]
    search_fields = ["content__title"]
    raw_id_fields = ["content"]


@admin.register(Annotation)
class AnnotationAdmin(admin.ModelAdmin):
    list_display = ["content", "annotator", "tag", "created_at"]
    list_filter = ["tag", "annotator"]
    raw_id_fields = ["content", "review_task"]


@admin.register(ReviewTask)
class ReviewTaskAdmin(admin.ModelAdmin):
    list_display = ["id", "content", "reason", "priority", "status", "assignee", "lease_expires_at", "model_version"]
    list_filter = ["status", "reason"]
    raw_id_fields = ["content"]
    ordering = ["status", "-priority"]


@admin.register(WrongTagReport)
class WrongTagReportAdmin(admin.ModelAdmin):
    list_display = ["id", "content", "shown_tag", "suggested_tag", "status", "shown_model_version", "created_at"]
    list_filter = ["status", "shown_tag", "suggested_tag"]
    raw_id_fields = ["content", "review_task"]
    readonly_fields = ["reporter_hash"]


class SourceTokenForm(forms.ModelForm):
    class Meta:
        model = SourceToken
        fields = ["source", "name"]


@admin.register(SourceToken)
class SourceTokenAdmin(admin.ModelAdmin):
    """API keys for streaming ingestion. The key is shown once, on the page after "Save"."""

    list_display = ["key_prefix", "source", "name", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["source"]
    search_fields = ["source", "name", "key_prefix"]
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = SourceTokenForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["source", "key_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["source", "name"]
        return ["source", "name", "key_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        token, key = source_token_create(source=obj.source, name=obj.name, created_by=request.user)
        obj.pk, obj.key_prefix, obj.key_hash, obj.created_at = (
            token.pk,
            token.key_prefix,
            token.key_hash,
            token.created_at,
        )
        obj._state.adding = False
        request._new_source_key = key

    def response_add(self, request, obj, post_url_continue=None):
        key = getattr(request, "_new_source_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": "New API token",
            "token": obj,
            "key": key,
            "opts": self.model._meta,
        }
        response = render(request, "admin/labeling/sourcetoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected tokens (requests with them get 401)", permissions=["change"])
    def revoke(self, request, queryset):
        count = source_token_revoke(token_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} token(s) revoked.")
