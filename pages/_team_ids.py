"""Component ids of the team page."""

#: The members grid (pages/_table.record_grid): team-grid-table, -search, -count, -refresh.
MEMBERS_PREFIX = "team-grid"
INVITES = "team-invites"
INVITE_CARD = "team-invite-card"
INVITE_EMAIL = "team-invite-email"
INVITE_FEEDBACK = "team-invite-email-feedback"
INVITE_ROLE = "team-invite-role"
INVITE_SEND = "team-invite-send"
INVITE_RESULT = "team-invite-result"  # the link just made (sent or renewed), until the next one
MESSAGE = "team-message"
REFRESH = "team-changed"  # a counter bumped after every change: redraws the grid and the list
EDIT = "team-edit"  # the panel that edits one member
EDIT_CLOSE = "team-edit-close"
EDIT_TITLE = "team-edit-title"  # the panel's title, which names it for screen readers
EDIT_USER = "team-edit-user"  # the id of the member in the panel
EDIT_WHO = "team-edit-who"
EDIT_ROLE = "team-edit-role"
EDIT_ROLE_NOTE = "team-edit-role-note"
EDIT_NUMBERS = "team-edit-numbers"
EDIT_NUMBERS_WRAP = "team-edit-numbers-wrap"
EDIT_SAVE = "team-edit-save"
EDIT_STATUS = "team-edit-status"
EDIT_REMOVE = "team-edit-remove"
EDIT_REMOVE_NOTE = "team-edit-remove-note"
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
