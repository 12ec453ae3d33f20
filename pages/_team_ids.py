"""Component ids of the team page."""

MEMBERS = "team-members"
INVITES = "team-invites"
INVITE_EMAIL = "team-invite-email"
INVITE_ROLE = "team-invite-role"
INVITE_SEND = "team-invite-send"
MESSAGE = "team-message"
REFRESH = "team-refresh"
ROLE = "team-role"  # pattern id: {"type": ROLE, "user": id}
NUMBERS = "team-numbers"  # pattern id: {"type": NUMBERS, "user": id}
REMOVE = "team-remove"  # pattern id: {"type": REMOVE, "user": id}
REVOKE = "team-revoke"  # pattern id: {"type": REVOKE, "invitation": id}
CONFIRM = "team-confirm"
PENDING = "team-pending-removal"
ROLES = (("agent", "Agent"), ("manager", "Manager"), ("org_admin", "Org admin"))
