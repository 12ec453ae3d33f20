"""Component ids of the overview page, shared by the page and its callbacks."""

RANGE = "overview-range"
CARDS = "overview-cards"
RANGES = ((1, "Today"), (7, "7 days"), (30, "30 days"), (90, "90 days"))
