"""The Dash app and its Flask server: wiring only. `server` is what gunicorn serves."""

from __future__ import annotations

import logging
from pathlib import Path

import dash
from dash import Dash
from flask import Flask, request, session

import callbacks  # noqa: F401  (registers every callback)
from models.bootstrap import prepare
from pages._shell import EMBED_KEY, INDEX_HTML, set_page_titles, shell, validation_layout
from settings import get_settings
from web.api import init_api
from web.auth import init_auth
from web.edges import init_edges
from web.exports import bp as exports_bp
from web.health import bp as health_bp
from web.invite import bp as invite_bp
from web.performance import init_performance
from web.security import allow_inline_scripts_of, init_security
from web.stream_export import bp as stream_export_bp

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("syncboard")


def _embed_flag() -> None:
    """`?embed=1` on a page hides the header and sidebar for the rest of the session."""
    flag = request.args.get("embed")
    if flag is not None:
        session[EMBED_KEY] = flag.lower() in ("1", "true", "yes")


def create_server() -> Flask:
    settings = get_settings()
    prepare(settings)
    server = Flask(__name__, instance_path=str(settings.instance_dir))
    init_security(server)
    init_performance(server)
    init_auth(server)
    mount = settings.url_prefix.rstrip("/") or None
    server.register_blueprint(health_bp, url_prefix=mount)
    server.register_blueprint(invite_bp, url_prefix=mount)
    server.register_blueprint(exports_bp, url_prefix=mount)
    server.register_blueprint(stream_export_bp, url_prefix=mount)
    init_api(server, mount)
    server.before_request(_embed_flag)
    return server


def create_dash(server: Flask) -> Dash:
    settings = get_settings()
    app = Dash(
        __name__,
        server=server,
        use_pages=True,
        pages_folder=str(ROOT / "pages"),
        assets_folder=str(ROOT / "assets"),
        url_base_pathname=settings.url_prefix,
        title="syncboard",
        update_title=None,
        serve_locally=True,
        index_string=INDEX_HTML,
    )
    app.layout = shell
    set_page_titles()  # "Calls · Riverbend · syncboard", set on every navigation
    allow_inline_scripts_of(app)
    return app


_validation_swapped = False


def _validation_layout_as_nobody() -> None:
    """After Dash's page router set up its validation layout, replace it with one built as
    nobody (pages/_shell.validation_layout says why); once per process."""
    global _validation_swapped
    if app.validation_layout is not None and not _validation_swapped:
        _validation_swapped = True
        app.validation_layout = validation_layout(app)


server = create_server()
app = create_dash(server)
init_edges(server)  # after Dash: its page router must be registered first
server.before_request(_validation_layout_as_nobody)
__all__ = ["app", "dash", "server"]
