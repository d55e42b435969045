"""What webhooks grant each role (registered with common.roles from WebhooksConfig.ready)."""

from common.roles import ADMIN

# Admins register endpoints, read the delivery log and send tests; no one else sees them.
WEBHOOKS_GRANTS = {ADMIN: ["webhooks.*"]}
