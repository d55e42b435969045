"""One rule for HTML views: anonymous visitors log in first; logged-in users without the permission get 403."""

from django.contrib.auth.decorators import login_required, permission_required


def requires(permission: str):
    def decorate(view):
        return login_required(permission_required(permission, raise_exception=True)(view))

    return decorate
