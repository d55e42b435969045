"""The roles' permissions on the REST API: each view names the permission each action needs.

Views check permissions, never group names (labeling/roles.py), exactly as the pages do.
"""

from rest_framework.permissions import BasePermission


class RolePermission(BasePermission):
    """``view.required_permissions``: action (or HTTP method, lower case) → the permission it needs.

    An action missing from the map is refused: a new action must say who may use it.
    """

    def has_permission(self, request, view):
        needed = view.required_permissions
        key = getattr(view, "action", None) or request.method.lower()
        if key not in needed:
            return False
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(needed[key]))
