"""The frame around every page: header with org switcher and user menu, and the role-aware sidebar.

Shared component ids live here too (Dash's page loader skips modules starting with `_`).
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask import g, has_request_context, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from models.scope import AccessDenied, Viewer
from settings import get_settings
from web.viewer import current_org_name, current_viewer, my_orgs

ORG_SELECT = "shell-org"
REDIRECT = "shell-redirect"
URL = "shell-url"
SIDEBAR = "sidebar"
MENU_TOGGLE = "shell-menu-toggle"
MAIN = "page-body"
EMBED_KEY = "embed"

ROLE_LABEL = {
    "platform_admin": "Platform admin",
    "org_admin": "Org admin",
    "manager": "Manager",
    "agent": "Agent",
}


#: Set while Dash's validation layout is built (see `validation_layout`): pages render whole.
VALIDATING = "_validating_layouts"


def validating() -> bool:
    return not has_request_context() or bool(g.get(VALIDATING))


def validation_layout(app: dash.Dash) -> html.Div:
    """Every page's full layout and the shell, for the renderer to check callback ids against.

    Dash builds its own on the first request of any kind, as whoever made it (an agent
    would leave out the admin pages and the browser would log "ID not found in layout"
    for them), so app.py swaps in this one, built as nobody.
    """
    g.setdefault(VALIDATING, True)
    try:
        layouts = [
            page["layout"]() if callable(page["layout"]) else page["layout"]
            for page in dash.page_registry.values()
        ]
        return html.Div([*layouts, shell(), *_drawn_by_callbacks()])
    finally:
        g.pop(VALIDATING, None)


def _drawn_by_callbacks() -> list:
    """Components that exist only once a callback draws them (or with two organisations).

    Each page module may define `drawn_by_callbacks() -> list` for its own; the shell adds its
    organisation switcher.
    """
    import sys

    drawn: list = [dcc.Dropdown(id=ORG_SELECT)]
    for page in dash.page_registry.values():
        extra = getattr(sys.modules.get(page["module"]), "drawn_by_callbacks", None)
        if callable(extra):
            drawn.extend(extra())
    return drawn


APP_NAME = "syncboard"

#: The HTML document around the app (Dash's default with `lang`, and no IE warning).
INDEX_HTML = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def page_title(name: str) -> str:
    """A tab's title: "Calls · Riverbend · syncboard" (the page, then the organisation)."""
    org = current_org_name() if has_request_context() and current_user.is_authenticated else None
    return " · ".join(part for part in (name, org, APP_NAME) if part)


def set_page_titles() -> None:
    """Give every registered page a title callable, `page_title(its name)`.

    Dash's page router calls a page's title on every navigation, in the callback's request,
    and writes it to document.title; the initial page load and a switch of organisation
    (which reloads) take the same route. Called once by app.py after Dash registered the pages,
    so page modules keep only their `name`.
    """
    for page in dash.page_registry.values():
        page["title"] = _TitleOf(page["name"])


class _TitleOf:
    """A page's title callable (Dash passes the page's path variables, which titles ignore)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, **_path_variables: str) -> str:
        return page_title(self.name)


def viewer_or_none() -> Viewer | None:
    """The viewer when a signed-in request is being served (None while Dash validates layouts)."""
    if validating() or not current_user.is_authenticated:
        return None
    try:
        return current_viewer()
    except AccessDenied:
        return None


def may_see(page: dict, viewer: Viewer | None) -> bool:
    """Whether the viewer may do all that the page's `min_role` may (read from PERMISSIONS)."""
    return viewer is not None and viewer.may_all_of(page.get("min_role", "agent"))


def denied(message: str = "You do not have access to this page.") -> html.Div:
    return html.Div(
        [html.H1("Not available", className="h4"), html.P(message, className="text-muted")],
        className="empty-state",
        id="page-denied",
    )


def page_guard(min_role: str) -> html.Div | None:
    """A refusal to render in place of a page the viewer's role may not open, else None."""
    if validating():
        return None
    viewer = viewer_or_none()
    if viewer is None or viewer.org_id is None:
        return denied(
            "Your account is not a member of any organisation yet. Ask an admin to add you."
        )
    if not viewer.may_all_of(min_role):
        return denied()
    return None


def _sidebar(viewer: Viewer | None) -> html.Nav:
    """The page links; on phones the same element is the menu the header's toggler opens."""
    links = [
        dbc.NavLink(
            [
                html.I(
                    className=f"bi bi-{page.get('icon', 'circle')} me-2", **{"aria-hidden": "true"}
                ),
                page["name"],
            ],
            href=page["relative_path"],
            active="exact" if page["path"] == "/" else "partial",
            id=f"nav-{page['module'].rsplit('.', 1)[-1]}",
        )
        for page in dash.page_registry.values()
        if page.get("in_nav", True) and may_see(page, viewer)
    ]
    return html.Nav(
        dbc.Nav(links, vertical=True, pills=True),
        className="sidebar",
        id=SIDEBAR,
        **{"aria-label": "Pages"},
    )


def _menu_toggle() -> html.Button:
    """The phone menu's button (assets/shell.js opens and closes the sidebar drawer)."""
    return html.Button(
        [
            html.I(className="bi bi-list", **{"aria-hidden": "true"}),
            html.Span("Menu", className="visually-hidden"),
        ],
        id=MENU_TOGGLE,
        type="button",
        className="btn btn-light shell-menu-toggle",
        **{"aria-controls": SIDEBAR, "aria-expanded": "false"},
    )


def _user_menu(viewer: Viewer | None) -> html.Div:
    if viewer is None:
        return html.Div()
    prefix = get_settings().url_prefix
    return dbc.DropdownMenu(
        [
            dbc.DropdownMenuItem(viewer.email, header=True),
            dbc.DropdownMenuItem(ROLE_LABEL.get(viewer.role or "", "No role"), disabled=True),
            dbc.DropdownMenuItem(divider=True),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
                    html.Button(
                        [
                            html.I(
                                className="bi bi-box-arrow-right me-2", **{"aria-hidden": "true"}
                            ),
                            "Sign out",
                        ],
                        type="submit",
                        className="dropdown-item",
                        id="shell-signout",
                    ),
                ],
                method="POST",
                action=prefix + "logout",
            ),
        ],
        # On phones the address is visually hidden (assets/syncboard.css) but still names
        # the button.
        label=html.Span(
            [
                html.I(className="bi bi-person-circle", **{"aria-hidden": "true"}),
                html.Span(viewer.email, className="shell-user-email"),
            ],
            className="shell-user-label",
        ),
        align_end=True,
        color="light",
        id="shell-user-menu",
        class_name="shell-user",
    )


def _org_switcher(viewer: Viewer | None) -> html.Div:
    if viewer is None:
        return html.Div()
    orgs = my_orgs()
    if len(orgs) <= 1:
        name = orgs[0][1] if orgs else "No organisation"
        return html.Div(name, className="fw-semibold shell-org shell-org-name", id="shell-org-name")
    return html.Div(
        [
            # shell.js adds this label to the dropdown button's accessible name.
            html.Label("Organisation", htmlFor=ORG_SELECT, className="visually-hidden"),
            dcc.Dropdown(
                id=ORG_SELECT,
                options=[{"label": name, "value": oid} for oid, name, _role in orgs],
                value=viewer.org_id,
                clearable=False,
                searchable=len(orgs) > 8,
            ),
        ],
        className="shell-org",
        title="Switch organisation",
    )


def shell() -> html.Div:
    """The whole app frame; Dash calls it on every page load.

    Landmarks: a skip link first, the header (banner), the sidebar (navigation) and the page
    body (main). Below 768 px the sidebar is a drawer opened by the header's menu button.
    """
    viewer = viewer_or_none()
    embedded = has_request_context() and bool(session.get(EMBED_KEY))
    header = html.Header(
        [
            _menu_toggle(),
            html.A(
                [
                    html.I(className="bi bi-grid-1x2-fill", **{"aria-hidden": "true"}),
                    html.Span("syncboard", className="shell-brand-name"),
                ],
                href=get_settings().url_prefix,
                className="navbar-brand shell-brand",
                **{"aria-label": APP_NAME},  # the word is hidden on phones
            ),
            html.Div([_org_switcher(viewer), _user_menu(viewer)], className="shell-tools"),
        ],
        className="shell-header",
        id="shell-header",
    )
    body = html.Main(dash.page_container, className="page-body", id=MAIN, tabIndex="-1")
    skip = html.A("Skip to main content", href=f"#{MAIN}", className="skip-link")
    return html.Div(
        [
            dcc.Location(id=REDIRECT, refresh=True),
            *([] if embedded else [skip, header]),
            html.Div(
                [
                    *([] if embedded else [_sidebar(viewer), html.Div(className="shell-backdrop")]),
                    body,
                ],
                className="shell-main" + (" embedded" if embedded else ""),
            ),
        ],
        className="shell",
    )
