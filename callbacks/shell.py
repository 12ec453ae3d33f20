"""Callbacks of the app frame: switching organisation."""

from dash import Input, Output, callback, get_relative_path, no_update

from models.params import id_or_none
from pages._shell import ORG_SELECT, REDIRECT
from web.viewer import current_viewer, switch_org


@callback(Output(REDIRECT, "href"), Input(ORG_SELECT, "value"), prevent_initial_call=True)
def change_org(org_id):
    """Membership is checked on the server by `switch_org`; a forged id is refused (403)."""
    if org_id is None or org_id == current_viewer().org_id:
        return no_update
    switch_org(id_or_none(org_id))
    return get_relative_path("/")
