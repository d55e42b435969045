from django.contrib.admin.apps import AdminConfig


class TagloopAdminConfig(AdminConfig):
    """django.contrib.admin with tagloop's site (config.admin_site): the admin role may use it.

    The ``config`` package has no app of its own; this one also registers its system checks.
    """

    default_site = "config.admin_site.TagloopAdminSite"

    def ready(self):
        super().ready()
        from config import checks  # noqa: F401  (registers the checks)
