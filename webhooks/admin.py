"""Admins register endpoints here, read the delivery log, and send a test event."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from webhooks.addresses import url_refusal
from webhooks.events import emit_test
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint

SUBSCRIBABLE = [(event.value, event.label) for event in Event if event != Event.PING]


class EndpointForm(forms.ModelForm):
    url = forms.URLField(
        max_length=500, assume_scheme="https", help_text=WebhookEndpoint._meta.get_field("url").help_text
    )
    events = forms.MultipleChoiceField(choices=SUBSCRIBABLE, widget=forms.CheckboxSelectMultiple, required=False)

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "is_active", "secret"]
        help_texts = {"secret": "signs every payload (X-Tagloop-Signature); give the receiver the same value"}

    def clean_url(self):
        url = self.cleaned_data["url"]
        refusal = url_refusal(url)
        if refusal is not None:
            raise forms.ValidationError(refusal)
        return url


DELIVERY_COLUMNS = ("created_at", "event", "status", "attempts", "last_status_code", "last_response", "last_error")


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = DELIVERY_COLUMNS
    readonly_fields = DELIVERY_COLUMNS
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at", "-pk"]
    verbose_name_plural = "deliveries (newest first)"

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-created_at", "-pk")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "description", "is_active", "event_list", "created_at"]
    list_filter = ["is_active"]
    inlines = [DeliveryInline]
    actions = ["send_test"]
    change_form_template = "admin/webhooks/webhookendpoint/change_form.html"

    @admin.display(description="events")
    def event_list(self, endpoint):
        return ", ".join(endpoint.events) or "—"

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Send a test event to the selected endpoints", permissions=["change"])
    def send_test(self, request, queryset):
        for endpoint in queryset:
            emit_test(endpoint)
        self.message_user(request, f"Test event queued for {queryset.count()} endpoint(s); see each delivery log.")

    def get_urls(self):
        test = self.admin_site.admin_view(require_POST(self.send_test_view))
        return [path("<int:pk>/send-test/", test, name="webhooks_webhookendpoint_send_test"), *super().get_urls()]

    def send_test_view(self, request, pk):
        if not self.has_change_permission(request):
            raise PermissionDenied
        endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
        delivery = emit_test(endpoint)
        messages.success(request, f"Test event {delivery.event_id} queued; reload to see its delivery.")
        return redirect(reverse("admin:webhooks_webhookendpoint_change", args=[pk]))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "endpoint", "event", "status", "attempts", "last_status_code", "next_attempt_at"]
    list_filter = ["status", "event"]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
