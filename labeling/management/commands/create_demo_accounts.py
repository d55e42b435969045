import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from common.roles import ADMIN, ANNOTATOR, REVIEWER, roles_ensure

# One account per role, named after it; the admin is also a superuser (the whole /admin/).
ACCOUNTS = [("admin", ADMIN, True), ("reviewer", REVIEWER, False), ("annotator", ANNOTATOR, False)]


class Command(BaseCommand):
    help = (
        "Create the demo 'admin', 'reviewer' and 'annotator' accounts with random passwords, and print them. "
        "Accounts that exist keep their passwords (and their sessions) unless --reset is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="give every demo account a new password")

    def handle(self, *, reset: bool, **options):
        roles_ensure()
        printed, unchanged = [], []
        for username, role, superuser in ACCOUNTS:
            password = self._account(username, role, superuser=superuser, reset=reset)
            if password is None:
                unchanged.append(username)
            else:
                printed.append(f"  {role} account: {username} / {password}")
        self.stdout.write("")
        for line in printed:
            self.stdout.write(line)
        if unchanged:
            # A new password on every start would log everyone out; `make run` runs this each time.
            self.stdout.write(
                f"  {', '.join(unchanged)}: unchanged (their passwords were printed when they were "
                "created; `manage.py create_demo_accounts --reset` prints new ones)"
            )
        self.stdout.write("")

    def _account(self, username: str, role: str, *, superuser: bool, reset: bool) -> str | None:
        """Make sure the account exists with its role; its new password, or None when it keeps its own."""
        user, created = get_user_model().objects.get_or_create(username=username)
        user.is_staff = superuser
        user.is_superuser = superuser
        password = secrets.token_urlsafe(12) if created or reset or not user.has_usable_password() else None
        if password is not None:
            user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=role))
        return password
