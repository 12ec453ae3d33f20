"""Helpers for tests that talk to the app the way a browser does."""

from __future__ import annotations

PASSWORD = "correct-horse-1"


def login(client, email: str, password: str = PASSWORD, prefix: str = "/"):
    """Sign in through the real form (CSRF token included); returns the POST response."""
    import re

    page = client.get(prefix + "login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(
        prefix + "login",
        data={"csrf_token": token, "email": email, "password": password, "next": prefix},
    )


def dash_post(
    client,
    output: str,
    inputs: list,
    prefix: str = "/",
    state: list | None = None,
    changed: list[str] | None = None,
    outputs=None,
):
    """POST to a Dash callback the way the browser does, CSRF header included.

    `output` may leave out the `@hash` Dash adds to allow_duplicate outputs; an input
    of a pattern-matching ALL callback is a list of {"id": {...}, "property", "value"};
    `changed` names the inputs that triggered it (default: all of them); `outputs` replaces
    the outputs the renderer would send (pattern-matching outputs carry their ids there).
    """
    token = client.get_cookie("_csrf_token")
    headers = {"X-CSRFToken": token.value} if token else {}
    output = _resolve(output, inputs)
    flat = [i for item in inputs for i in (item if isinstance(item, list) else [item])]
    body = {
        "output": output,
        "outputs": outputs if outputs is not None else _outputs(output),
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": changed
        if changed is not None
        else [f"{_id_text(i['id'])}.{i['property']}" for i in flat],
    }
    return client.post(prefix + "_dash-update-component", json=body, headers=headers)


def _id_text(cid) -> str:
    import json

    return json.dumps(cid, sort_keys=True, separators=(",", ":")) if isinstance(cid, dict) else cid


def _resolve(output: str, inputs: list) -> str:
    """The registered callback key for `output`, matching `@hash` suffixes and input ids."""
    import json
    import re

    import dash

    callback_map = dash.get_app().callback_map
    if output in callback_map:
        return output
    flat = [i for item in inputs for i in (item if isinstance(item, list) else [item])]
    wanted = {
        (i["id"]["type"] if isinstance(i["id"], dict) else i["id"], i["property"]) for i in flat
    }
    for key, spec in callback_map.items():
        if re.sub(r"@[0-9a-f]+", "", key) != output:
            continue
        ids = set()
        for i in spec["inputs"]:
            cid = i["id"]
            ids.add((json.loads(cid)["type"] if cid.startswith("{") else cid, i["property"]))
        if wanted <= ids:
            return key
    return output


def _outputs(output: str):
    outs = []
    for part in output[2:-2].split("...") if output.startswith("..") else [output]:
        cid, prop = part.rsplit(".", 1)
        outs.append({"id": cid, "property": prop})
    return outs if output.startswith("..") else outs[0]


def make_org(db, name: str = "Acme Ops") -> int:
    from models.users import create_org

    with db.session() as s:
        org = create_org(s, name)
        s.commit()
        return org.id


def make_connection(
    db,
    org_id: int,
    connector: str,
    *,
    base_url: str = "",
    token: str | None = None,
    settings: dict | None = None,
    name: str | None = None,
    schedule_minutes: int | None = None,
):
    """A saved connection (credentials encrypted as the app stores them)."""
    from models.connections import create_connection

    with db.session() as s:
        conn = create_connection(
            s,
            org_id=org_id,
            connector=connector,
            name=name or f"{connector} test",
            base_url=base_url,
            credentials={"token": token} if token else {},
            settings=settings or {},
            schedule_minutes=schedule_minutes,
        )
        s.commit()
        s.expunge(conn)
        return conn


def run_sync(conn, stream: str | None = None, **options):
    """Queue a run and execute it to the end in this thread with the real engine; the finished run."""
    from models.db import session_scope
    from models.sync import SyncRun
    from models.sync_options import parse_options
    from workers.engine import execute_run
    from workers.service import create_run

    run = create_run(conn, stream, parse_options(options), "cli", None)
    execute_run(run.id)
    with session_scope() as s:
        finished = s.get(SyncRun, run.id)
        s.expunge(finished)
        return finished


def count_rows(db, model, org_id: int) -> int:
    from sqlalchemy import func, select

    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.org_id == org_id))
