"""Connectors reach public addresses only, unless the operator allows an internal one.

Over real HTTP against fakes on 127.0.0.1 (and the suite's real Redis on 6379): with
SYNCBOARD_CONNECTOR_ALLOW_HOSTS empty every spelling of an internal address is refused
before a byte is sent, redirects are re-checked hop by hop, a name that resolves
differently on its second lookup cannot switch the connection, and no message carries
what a server wrote.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import replace

import pytest

from connectors.base import BlockedAddressError, ConnectorError, HttpClient, RetryPolicy
from connectors.egress import address_kind, refusal
from connectors.gsheet import GoogleSheetConnector
from connectors.hubspot import HubSpotConnector
from settings import get_settings, parse_allowed_host, reset_settings
from tests.fakes.base import FakeApi, Request, Response
from tests.helpers import make_connection, make_org, run_sync

MARKER = "REMOTE-BYTES-7d1e"
TOKEN = "pat-egress-secret"


class Remote(FakeApi):
    """Answers with the marker in every body; `/to?url=U` redirects to U, `/loop` to itself."""

    def handle(self, request: Request) -> Response:
        if request.path == "/to":
            return Response(302, "", {"Location": request.query["url"]})
        if request.path.startswith("/loop"):
            return Response(307, "", {"Location": f"{self.url}/loop"})
        if request.path == "/crm/v3/objects/contacts":
            return Response(404, {"message": MARKER, "category": "OBJECT_NOT_FOUND"})
        if request.path == "/missing":
            return Response(404, {"message": MARKER, "error": {"message": MARKER}})
        return Response(200, f"{MARKER},header\r\n1,2", {"Content-Type": "text/csv"})

    @property
    def port(self) -> int:
        return self._server.server_address[1]


@pytest.fixture
def remote():
    fake = Remote().start()
    yield fake
    fake.stop()


@pytest.fixture
def other():
    fake = Remote().start()
    yield fake
    fake.stop()


def allow(*entries: str) -> None:
    reset_settings(
        replace(
            get_settings(),
            connector_allow_hosts=tuple(parse_allowed_host(e) for e in entries),
        )
    )


@pytest.fixture
def allow_list():
    """Set the allow-list for one test (empty to start with); the suite's own comes back after."""
    saved = get_settings()
    allow()
    yield allow
    reset_settings(saved)


def hubspot(url: str) -> HubSpotConnector:
    return HubSpotConnector(
        base_url=url, credentials={"token": TOKEN}, retry=RetryPolicy(max_retries=0)
    )


def refused(url: str) -> str:
    with pytest.raises(BlockedAddressError) as caught:
        hubspot(url).test_connection()
    return str(caught.value)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:6379", "127.0.0.1 is a loopback address"),
        ("http://[::1]:6379", "::1 is a loopback address"),
        ("http://2130706433:6379", "2130706433 resolves to a loopback address (127.0.0.1)"),
        ("http://0x7f.1:6379", "0x7f.1 resolves to a loopback address (127.0.0.1)"),
        ("http://0177.0.0.1:5432", "0177.0.0.1 resolves to a loopback address (127.0.0.1)"),
        ("http://localhost:6379", "localhost resolves to a loopback address"),
        ("http://[::ffff:127.0.0.1]:6379", "::ffff:127.0.0.1 is a loopback address"),
        ("http://0.0.0.0:6379", "0.0.0.0 is an unspecified address"),
        ("http://10.0.0.5", "10.0.0.5 is a private address"),
        ("http://192.168.1.1:8080", "192.168.1.1 is a private address"),
        ("http://[fe80::1]", "fe80::1 is a link-local address"),
        ("http://100.64.0.1", "100.64.0.1 is a shared (carrier-grade NAT) address"),
    ],
)
def test_internal_addresses_are_refused_with_the_reason(allow_list, url, reason):
    message = refused(url)
    assert message.startswith(reason)
    assert message.endswith("ask your operator to allow it with SYNCBOARD_CONNECTOR_ALLOW_HOSTS")


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest"]
)
def test_cloud_metadata_is_refused_even_when_its_network_is_allowed(allow_list, url):
    allow_list("169.254.0.0/16", "fd00::/8")
    assert refused(url).endswith("is a cloud metadata address; connectors never reach it")


def test_a_loopback_fake_gets_no_request_and_no_byte_reaches_the_message(allow_list, remote):
    message = refused(remote.url)
    assert message == (
        "127.0.0.1 is a loopback address; ask your operator to allow it with "
        "SYNCBOARD_CONNECTOR_ALLOW_HOSTS"
    )
    assert remote.log == []
    gsheet = GoogleSheetConnector(base_url=f"{remote.url}/sheet.csv", settings={"max_retries": 0})
    with pytest.raises(BlockedAddressError) as caught:
        gsheet.test_connection()
    assert MARKER not in str(caught.value) and remote.log == []


def test_only_http_and_https(allow_list):
    for url in ("ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO"):
        with pytest.raises(BlockedAddressError, match="only use http:// and https://"):
            HttpClient(url).request("GET", url)


def test_a_sync_run_is_refused_too(db, allow_list, remote):
    conn = make_connection(db, make_org(db), "hubspot", base_url=remote.url, token=TOKEN)
    run = run_sync(conn, "contacts")
    assert run.status == "failed"
    assert run.error.startswith("127.0.0.1 is a loopback address")
    assert remote.log == []


def test_allow_list_entries_open_exactly_what_they_name(allow_list, remote):
    allow_list(f"127.0.0.1:{remote.port + 1}")
    assert refused(remote.url).startswith("127.0.0.1 is a loopback address")
    for entry in (f"127.0.0.1:{remote.port}", "127.0.0.0/8", "127.0.0.1"):
        allow_list(entry)
        with pytest.raises(ConnectorError, match="answered HTTP 404 Not Found"):
            hubspot(remote.url).test_connection()
    allow_list(f"localhost:{remote.port}")
    with pytest.raises(ConnectorError, match="answered HTTP 404 Not Found"):
        hubspot(f"http://localhost:{remote.port}").test_connection()
    assert refused(remote.url).startswith("127.0.0.1 is a loopback address")  # the name only


def test_upstream_messages_never_reach_the_error(remote):
    """The fake's JSON `message` used to be appended to the error (and so shown in the UI)."""
    with pytest.raises(ConnectorError) as caught:
        hubspot(remote.url).test_connection()
    assert str(caught.value) == f"127.0.0.1:{remote.port} answered HTTP 404 Not Found"
    client = HttpClient(remote.url, retry=RetryPolicy(max_retries=0))
    with pytest.raises(ConnectorError) as caught:
        client.get_json("/missing")
    assert MARKER not in str(caught.value)


def test_a_redirect_to_a_refused_address_is_not_followed(allow_list, remote, other):
    allow_list(f"127.0.0.1:{remote.port}")
    for target, reason in (
        ("http://127.0.0.1:6379/", "127.0.0.1 is a loopback address"),
        (f"{other.url}/crm/v3/objects/contacts", "127.0.0.1 is a loopback address"),
        ("http://[::1]:5432/", "::1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata"),
        ("file:///etc/passwd", "connectors only use http:// and https://"),
    ):
        client = HttpClient(remote.url, headers={"Authorization": f"Bearer {TOKEN}"})
        with pytest.raises(BlockedAddressError) as caught:
            client.request("GET", "/to", params={"url": target})
        assert str(caught.value).startswith(reason) and MARKER not in str(caught.value)
    assert other.log == []
    assert [r.path for r in remote.log] == ["/to"] * 5


def test_redirects_keep_credentials_at_home_and_stop_after_five_hops(allow_list, remote, other):
    allow_list("127.0.0.1")
    client = HttpClient(
        remote.url,
        headers={"Authorization": f"Bearer {TOKEN}", "x-api-key": TOKEN},
        retry=RetryPolicy(max_retries=0),
    )
    response = client.request("GET", "/to", params={"url": f"{other.url}/landing"})
    assert response.status_code == 200 and response.url == f"{other.url}/landing"
    assert remote.log[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert [r.path for r in other.log] == ["/landing"]
    assert "authorization" not in other.log[0].headers
    assert "x-api-key" not in other.log[0].headers
    assert other.log[0].query == {}  # the first hop's params are not re-sent
    with pytest.raises(ConnectorError, match="redirected more than 5 times"):
        client.request("GET", "/loop")
    assert len([r for r in remote.log if r.path == "/loop"]) == 6


def test_a_name_that_resolves_differently_the_second_time_cannot_switch(
    allow_list, remote, monkeypatch
):
    """DNS rebinding: checked as public, then answered with 127.0.0.1 at connect time."""
    real = socket.getaddrinfo
    answers = iter(["93.184.215.14"])

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.example":
            return real(host, port, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    message = refused(f"http://rebind.example:{remote.port}")
    assert message.startswith("rebind.example resolves to a loopback address (127.0.0.1)")
    assert remote.log == []


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
        ("127.0.0.53", "loopback"),
        ("::ffff:10.1.2.3", "private"),
        ("64:ff9b::a9fe:a9fe", "cloud metadata"),
        ("64:ff9b::7f00:1", "loopback"),
        ("2002:c0a8:0101::1", "private"),
        ("::127.0.0.1", "loopback"),
        ("172.16.0.1", "private"),
        ("fc00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("::", "unspecified"),
        ("192.0.0.8", "reserved"),
        ("198.18.0.1", "private"),
        ("100.100.100.200", "cloud metadata"),
    ],
)
def test_address_kinds(address, kind):
    assert address_kind(ipaddress.ip_address(address)) == kind


def test_refusal_wording(allow_list):
    ip = ipaddress.ip_address("10.0.0.5")
    assert refusal("crm.internal", 443, ip) == (
        "crm.internal resolves to a private address (10.0.0.5); ask your operator to allow "
        "it with SYNCBOARD_CONNECTOR_ALLOW_HOSTS"
    )
    allow_list("crm.internal:443")
    assert refusal("crm.internal", 443, ip) is None
    assert refusal("crm.internal", 8443, ip) is not None
    assert refusal("example.com", 443, ipaddress.ip_address("93.184.215.14")) is None


@pytest.fixture
def tls_site(tmp_path):
    """An https server on 127.0.0.1 whose certificate names only `localhost`; records SNI."""
    import datetime
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    seen: dict[str, list] = {"sni": [], "host": []}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            seen["host"].append(self.headers["Host"])
            body = b'{"results": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    context.sni_callback = lambda sock, server_name, ctx: seen["sni"].append(server_name)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1], cert_path, seen
    httpd.shutdown()
    httpd.server_close()


def test_https_connects_to_the_checked_address_but_keeps_the_name_for_tls(
    allow_list, tls_site, monkeypatch
):
    port, ca, seen = tls_site
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    allow_list(f"localhost:{port}", f"127.0.0.1:{port}")
    client = HttpClient(f"https://localhost:{port}", retry=RetryPolicy(max_retries=0))
    assert client.get_json("/crm/v3/objects/contacts") == {"results": []}
    assert seen["sni"] == ["localhost"] and seen["host"] == [f"localhost:{port}"]
    by_ip = HttpClient(f"https://127.0.0.1:{port}", retry=RetryPolicy(max_retries=0))
    with pytest.raises(ConnectorError, match="TLS certificate could not be verified"):
        by_ip.get_json("/")  # the certificate names localhost, not the address
