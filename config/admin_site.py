"""The Django admin, open to the admin role (common.roles), not only to staff accounts.

Admins import content there; Django's own site lets in only ``is_staff`` users, which
a role given in the admin (a group) does not set. Inside the site, each model's
permissions still decide what a user sees and changes. Its login page has the same
lockout after repeated failures as the site's (labeling.login_throttle).
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from labeling.forms import ThrottledLoginMixin
from labeling.views.accounts import locked_out_status

# A permission only the admin role has: holding it means the role is the user's.
ADMIN_SITE_PERMISSION = "labeling.import_content"


def may_use_admin_site(user) -> bool:
    return user.is_active and (user.is_staff or user.has_perm(ADMIN_SITE_PERMISSION))


class RoleAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    def confirm_login_allowed(self, user):
        AuthenticationForm.confirm_login_allowed(self, user)  # refuses inactive users
        if not may_use_admin_site(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class TagloopAdminSite(admin.AdminSite):
    login_form = RoleAdminAuthenticationForm

    def has_permission(self, request):
        return may_use_admin_site(request.user)

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        form = getattr(response, "context_data", {}).get("form")  # a redirect once logged in has none
        return locked_out_status(response, form)
