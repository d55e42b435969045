import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from labeling.roles import ADMIN, ANNOTATOR, roles_ensure


class Command(BaseCommand):
    help = "Create (or reset) the demo 'admin' and 'annotator' accounts with fresh random passwords, and print them."

    def handle(self, **options):
        roles_ensure()
        admin_password = self._account("admin", ADMIN, superuser=True)
        annotator_password = self._account("annotator", ANNOTATOR, superuser=False)
        self.stdout.write("")
        self.stdout.write("  admin account:     admin / " + admin_password)
        self.stdout.write("  annotator account: annotator / " + annotator_password)
        self.stdout.write("")

    def _account(self, username: str, group: str, *, superuser: bool) -> str:
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.is_staff = superuser
        user.is_superuser = superuser
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=group))
        return password
