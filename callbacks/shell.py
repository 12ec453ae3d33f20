"""Callbacks of the app frame: switching organisation."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from dash import Input, Output, State, callback, get_relative_path, no_update, strip_relative_path

from models.params import as_text, id_or_none
from pages._shell import ORG_SELECT, REDIRECT
from web.edges import ROUTER_LOCATION, is_missing_page, page_for
from web.viewer import current_viewer, switch_org


def address_after_switch(pathname: str | None, search: str | None) -> str:
    """Where a switch of organisation lands, relative to the app ("/calls?direction=inbound").

    The same page with the same query string when the page belongs to no particular record
    (the overview, calls, sources, team...): its filters apply in the new organisation too, and
    ids among them that belong to the old one are scoped away by the page's own queries. A
    page of one record (`/sources/3`, `/sources/3/contacts`, `/syncs/12`) shows a record of
    the old organisation, so the switch goes to the list its address starts with
    (`/sources`, `/syncs`), without the query; an unknown address goes to the overview.
    """
    path = "/" + (strip_relative_path(as_text(pathname) or "/") or "")
    page = page_for(path)
    if is_missing_page(page):
        return "/"
    if not page.get("path_template"):
        query = urlencode(parse_qsl(as_text(search).lstrip("?"), keep_blank_values=True))
        return page["path"] + (f"?{query}" if query else "")
    head = "/" + path.strip("/").split("/")[0]
    listing = page_for(head)
    return head if not is_missing_page(listing) and not listing.get("path_template") else "/"


@callback(
    Output(REDIRECT, "href"),
    Input(ORG_SELECT, "value"),
    State(ROUTER_LOCATION, "pathname"),
    State(ROUTER_LOCATION, "search"),
    prevent_initial_call=True,
)
def change_org(org_id, pathname, search):
    """Switch and reload the current page (the frame is drawn for the new organisation).

    Membership is checked on the server by `switch_org`; a forged or malformed id is
    refused (403).
    """
    if org_id is None:
        return no_update
    wanted = id_or_none(org_id)
    if wanted is not None and wanted == current_viewer().org_id:
        return no_update
    switch_org(wanted)  # a malformed id is None here, which no one is a member of
    return get_relative_path(address_after_switch(pathname, search))
