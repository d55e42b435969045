from django.contrib.admin.apps import AdminConfig


class TagloopAdminConfig(AdminConfig):
    """django.contrib.admin with tagloop's site (config.admin_site): the admin role may use it."""

    default_site = "config.admin_site.TagloopAdminSite"
