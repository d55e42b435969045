"""Roles are Django groups with permissions; views check permissions, never group names.

- annotator: works the review queue and browses gold labels.
- reviewer: an annotator who also adjudicates disagreements, sees quality figures,
  exports gold labels and sends them back to review.
- admin: imports content, retrains and promotes models, and can do all the above.
End users need no account: public pages and wrong-tag reports are open to everyone.

Each app grants its own permissions: it registers them here from its ``AppConfig.ready``
(``labeling/roles.py``, ``predictions/roles.py``), so no app names another's permissions.
"""

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS

ANNOTATOR = "annotator"
REVIEWER = "reviewer"
ADMIN = "admin"
ROLES = (ANNOTATOR, REVIEWER, ADMIN)

# app label → role → permission codes ("app.codename", or "app.*" for all of the app's).
_grants: dict[str, dict[str, list[str]]] = {}


def role_permissions_register(app_label: str, grants: dict[str, list[str]]) -> None:
    """Record the permissions ``app_label`` grants each role; registering again replaces them."""
    for role, codes in grants.items():
        if role not in ROLES:
            raise ValueError(f"{app_label} grants permissions to an unknown role {role!r}; roles: {', '.join(ROLES)}")
        foreign = [code for code in codes if code.split(".")[0] != app_label]
        if foreign:
            raise ValueError(f"{app_label} may grant only its own permissions, not {', '.join(foreign)}")
    _grants[app_label] = grants


def role_permissions() -> dict[str, list[str]]:
    """Every role's permission codes, as the apps registered them."""
    return {role: [code for grants in _grants.values() for code in grants.get(role, [])] for role in ROLES}


def _permissions(codes: list[str], using: str) -> list[Permission]:
    found = []
    for code in codes:
        app_label, codename = code.split(".")
        query = Permission.objects.using(using).filter(content_type__app_label=app_label)
        if codename != "*":
            query = query.filter(codename=codename)
        found.extend(query)
    return found


def roles_ensure(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create or update the role groups; idempotent."""
    for name, codes in role_permissions().items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*_permissions(codes, using))


def roles_ensure_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate receiver: the roles, once every app's permissions exist.

    Django sends post_migrate once per app, in INSTALLED_APPS order, and auth creates
    each app's permissions in that app's turn. The roles take permissions of several
    apps (the admin's include predictions'), so they are made in the last app's turn:
    made in labeling's, a fresh database's admin role lacked every predictions
    permission until a second migrate.
    """
    if sender is _last_app_with_models():
        roles_ensure(using=using)


def _last_app_with_models():
    # The apps emit_post_migrate_signal sends for, in its order.
    return [config for config in apps.get_app_configs() if config.models_module is not None][-1]
