"""The fake HubSpot with contacts made from their index, page by page, instead of held in a list.

`tests.fakes.hubspot.FakeHubSpot` keeps every record in memory, which is right for tests
and too heavy for a million contacts. `LazyFakeHubSpot` answers the same list endpoint
(`GET /crm/v3/objects/contacts?limit=..&after=..`, paged by `paging.next.after`) with the
same records `FakeHubSpot.add_contacts` would have made, computed from the index.

Run it on its own so the benchmarked process holds nothing of it:

    python -m bench.fake_hubspot_lazy --contacts 1000000 --token pat-bench

prints `{"url": "http://127.0.0.1:PORT"}` on one line, then serves until stdin closes
or it gets SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import timedelta

from tests.fakes.base import Response
from tests.fakes.hubspot import EPOCH, FakeHubSpot, iso


def contact(n: int) -> dict:
    """Contact number `n` (0-based), identical to what FakeHubSpot.add_contacts makes."""
    when = iso(EPOCH + timedelta(seconds=n + 1))
    return {
        "id": str(1000 + n),
        "properties": {
            "firstname": f"First{n}",
            "lastname": f"Last{n}",
            "email": f"person{n}@example.com",
            "phone": f"+1555{n:07d}",
            "company": f"Company {n % 17}",
            "lifecyclestage": "lead" if n % 3 else "customer",
            "lastmodifieddate": when,
        },
        "createdAt": when,
        "updatedAt": when,
        "archived": False,
    }


class LazyFakeHubSpot(FakeHubSpot):
    """Only `contacts` on the list endpoint; the count is all it stores."""

    def __init__(self, token: str = "pat-good", contacts: int = 0):
        super().__init__(token=token, contacts=0)
        self.contact_count = contacts

    def start(self) -> LazyFakeHubSpot:
        """Serve with TCP_NODELAY: the base handler writes headers and body in two sends, and
        with Nagle on, each response then waits for the client's delayed ACK (~40 ms a page on
        Linux), which would make both benchmarked tools wait on the fake, not on their work."""
        super().start()
        self._server.RequestHandlerClass.disable_nagle_algorithm = True
        return self

    def _list(self, kind: str, query: dict) -> Response:
        if kind != "contacts":
            return super()._list(kind, query)
        limit = min(int(query.get("limit", 10)), 100)
        after = int(query.get("after", 0))
        end = min(after + limit, self.contact_count)
        body: dict = {"results": [contact(n) for n in range(after, end)]}
        if end < self.contact_count:
            body["paging"] = {"next": {"after": str(end), "link": f"?after={end}"}}
        # The base server keeps every request in `log`; a million-record run makes 10k of them.
        with self.lock:
            self.log.clear()
        return Response(200, body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, required=True)
    parser.add_argument("--token", default="pat-bench")
    args = parser.parse_args(argv)
    fake = LazyFakeHubSpot(token=args.token, contacts=args.contacts).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())

    def watch_stdin() -> None:
        sys.stdin.read()  # returns when the parent closes our stdin (or dies)
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    print(json.dumps({"url": fake.url}), flush=True)
    done.wait()
    fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
