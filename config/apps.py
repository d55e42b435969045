from django.contrib.admin.apps import AdminConfig


class TagloopAdminConfig(AdminConfig):
    """django.contrib.admin with tagloop's site (config.admin_site): the admin role may use it.

    The ``config`` package has no app of its own; this one also registers its system checks and makes
    the folders tagloop writes to (config/var_dirs.py).
    """

    default_site = "config.admin_site.TagloopAdminSite"

    def ready(self):
        super().ready()
        from django.conf import settings

        from config import checks  # noqa: F401  (registers the checks)
        from config.var_dirs import make_var_dirs

        # The folders under VAR_DIR, once per process, before anything writes there.
        make_var_dirs(settings)
