"""Component ids of the team page."""

MEMBERS = "team-members"
INVITES = "team-invites"
INVITE_CARD = "team-invite-card"
INVITE_EMAIL = "team-invite-email"
INVITE_FEEDBACK = "team-invite-email-feedback"
INVITE_ROLE = "team-invite-role"
INVITE_SEND = "team-invite-send"
INVITE_RESULT = "team-invite-result"  # the link just made (sent or renewed), until the next one
MESSAGE = "team-message"
REFRESH = "team-refresh"
ROLE = "team-role"  # pattern id: {"type": ROLE, "user": id}
NUMBERS = "team-numbers"  # pattern id: {"type": NUMBERS, "user": id}
REMOVE = "team-remove"  # pattern id: {"type": REMOVE, "user": id}
REVOKE = "team-revoke"  # pattern id: {"type": REVOKE, "invitation": id}
RESEND = "team-resend"  # pattern id: {"type": RESEND, "invitation": id}
LINK = "team-link"  # pattern id: {"type": LINK, "key": invitation id or "new"}
COPY = "team-copy"  # pattern id: {"type": COPY, "key": ...}, copies the LINK of that key
COPIED = "team-copied"  # pattern id: {"type": COPIED, "key": ...}, "Copied" feedback
CONFIRM = "team-confirm"
CONFIRM_TITLE = "team-confirm-title"
CONFIRM_BODY = "team-confirm-body"
PENDING = "team-pending-removal"
ROLES = (("agent", "Agent"), ("manager", "Manager"), ("org_admin", "Org admin"))
