"""The page shown for an unknown path."""

import dash
from dash import html

dash.register_page(__name__, path="/404", name="Not found", in_nav=False)


def layout(**_kwargs):
    return html.Div(
        [
            html.H1("Page not found", className="h4"),
            html.P("There is nothing at this address.", className="text-muted"),
            html.A("Back to the overview", href=dash.get_relative_path("/")),
        ],
        className="empty-state",
    )
