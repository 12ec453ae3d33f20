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
    client, output: str, inputs: list[dict], prefix: str = "/", state: list | None = None
):
    """POST to a Dash callback the way the browser does, CSRF header included."""
    token = client.get_cookie("_csrf_token")
    headers = {"X-CSRFToken": token.value} if token else {}
    body = {
        "output": output,
        "outputs": _outputs(output),
        "inputs": inputs,
        "state": state or [],
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in inputs],
    }
    return client.post(prefix + "_dash-update-component", json=body, headers=headers)


def _outputs(output: str):
    outs = []
    for part in output.strip(".").split("..") if output.startswith("..") else [output]:
        cid, prop = part.rsplit(".", 1)
        outs.append({"id": cid, "property": prop})
    return outs if output.startswith("..") else outs[0]
