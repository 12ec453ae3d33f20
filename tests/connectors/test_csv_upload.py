"""CSV / Excel uploads from files on disk, through the real engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import shutil
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from connectors.base import ConnectorError, ReadRequest
from connectors.csv_upload import CsvUploadConnector
from models.orgs import Organization, PhoneNumber
from models.records import Call, Case, Cluster, Contact, Office, Tag, Ticket
from models.users import add_membership, create_user
from settings import get_settings
from tests.helpers import PASSWORD, count_rows, make_connection, make_org, run_sync

EPOCH = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)
CALL_HEADER = [
    "id",
    "started_at",
    "status",
    "direction",
    "from",
    "to",
    "duration",
    "phone_number",
    "agent_email",
]


def call_row(n: int) -> list[str]:
    started = EPOCH + timedelta(minutes=7 * n)
    return [
        f"call-{n}",
        started.strftime("%Y-%m-%d %H:%M:%S"),
        ("answered", "missed", "voicemail")[n % 3],
        "inbound" if n % 4 else "outbound",
        f"+1555{n:07d}",
        f"+1800555{n % 3:04d}",
        str(60 + n) if n % 3 == 0 else "0",
        f"+1800555{n % 3:04d}",
        "agent@example.com" if n % 5 == 0 else "",
    ]


def write_csv(
    path: Path,
    header: list[str],
    rows: list[list],
    *,
    delimiter: str = ",",
    bom: bool = False,
    encoding: str = "utf-8",
) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def uploads():
    """A folder under the instance directory, where the app keeps uploaded files."""
    folder = get_settings().instance_dir / "uploads" / uuid.uuid4().hex
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def org(db):
    return make_org(db)


def calls_file(uploads: Path, count: int, name: str = "calls.csv") -> Path:
    return write_csv(uploads / name, CALL_HEADER, [call_row(n) for n in range(count)])


def connect(db, org: int, path: Path, **settings):
    return make_connection(
        db,
        org,
        "csv",
        settings={"path": str(path), **settings},
        name=f"upload {path.name} {uuid.uuid4().hex[:6]}",
    )


def test_full_load_maps_every_row(db, uploads, org):
    with db.session() as s:
        agent = create_user(s, "agent@example.com", PASSWORD)
        add_membership(s, agent, s.get(Organization, org), "agent")
        s.commit()
        agent_id = agent.id
    conn = connect(db, org, calls_file(uploads, 250), model="calls")
    run = run_sync(conn, "calls", batch_size=100)
    assert (run.status, run.processed, run.created, run.updated, run.failed) == (
        "success",
        250,
        250,
        0,
        0,
    )
    assert run.total == 250
    assert run.stats["pages"] == 3 and run.stats["requests"] == 0
    assert count_rows(db, Call, org) == 250
    with db.session() as s:
        call = s.scalar(select(Call).where(Call.external_id == "call-9"))
        assert (call.status, call.direction, call.source) == ("answered", "inbound", "csv")
        assert call.started_at == EPOCH + timedelta(minutes=63)
        assert (call.duration_seconds, call.ended_at) == (
            69,
            call.started_at + timedelta(seconds=69),
        )
        assert (call.from_number, call.to_number) == ("+15550000009", "+18005550000")
        assert s.get(PhoneNumber, call.phone_number_id).number == "+18005550000"
        assert call.agent_id is None
        assert call.raw == dict(zip(CALL_HEADER, call_row(9), strict=True))
        outbound = s.scalar(select(Call).where(Call.external_id == "call-20"))
        assert (outbound.direction, outbound.status, outbound.agent_id) == (
            "outbound",
            "voicemail",
            agent_id,
        )
        assert outbound.duration_seconds == 0
        numbers = s.scalars(select(PhoneNumber.number).where(PhoneNumber.org_id == org)).all()
        assert sorted(numbers) == ["+18005550000", "+18005550001", "+18005550002"]


def test_reload_counts_created_updated_and_unchanged(db, uploads, org):
    path = calls_file(uploads, 200)
    conn = connect(db, org, path, model="calls")
    assert run_sync(conn, "calls").created == 200
    rows = [call_row(n) for n in range(200)]
    rows[12][2] = "voicemail"
    rows[12][6] = "0"
    rows[40][3] = "inbound" if rows[40][3] == "outbound" else "outbound"
    rows[101][4] = "+15559999999"
    rows += [call_row(200), call_row(201)]
    write_csv(path, CALL_HEADER, rows)
    run = run_sync(conn, "calls")
    assert run.status == "success"
    assert (run.processed, run.created, run.updated, run.unchanged) == (202, 2, 3, 197)
    assert count_rows(db, Call, org) == 202
    with db.session() as s:
        changed = {
            c.external_id: c
            for c in s.scalars(
                select(Call).where(Call.external_id.in_(["call-12", "call-40", "call-101"]))
            )
        }
        assert (changed["call-12"].status, changed["call-12"].duration_seconds) == ("voicemail", 0)
        assert changed["call-40"].direction == "inbound"
        assert changed["call-101"].from_number == "+15559999999"
    again = run_sync(conn, "calls")
    assert (again.processed, again.created, again.updated, again.unchanged) == (202, 0, 0, 202)


def test_bad_rows_make_the_run_partial_and_name_the_row(db, uploads, org):
    rows = [call_row(n) for n in range(20)]
    rows[3][1] = "yesterday"  # sheet row 5 (header is row 1)
    rows[6][2] = "busy"
    rows[8][0] = ""
    rows[11][6] = "-5"
    rows[15][3] = "sideways"
    conn = connect(db, org, write_csv(uploads / "bad.csv", CALL_HEADER, rows), model="calls")
    run = run_sync(conn, "calls")
    assert (run.status, run.processed, run.created, run.failed) == ("partial", 20, 15, 5)
    assert run.error_samples == [
        {
            "record": "call-3",
            "stream": "calls",
            "reason": "row 5: started_at 'yesterday' is not a date",
        },
        {
            "record": "call-6",
            "stream": "calls",
            "reason": "row 8: status 'busy' is not one of answered, missed, voicemail",
        },
        {"record": "row 10", "stream": "calls", "reason": "row 10: id is empty"},
        {
            "record": "call-11",
            "stream": "calls",
            "reason": "row 13: duration_seconds '-5' is below 0",
        },
        {
            "record": "call-15",
            "stream": "calls",
            "reason": "row 17: direction 'sideways' is not one of inbound, outbound",
        },
    ]
    assert count_rows(db, Call, org) == 15
    with db.session() as s:
        assert s.scalar(select(Call.id).where(Call.external_id == "call-3")) is None


def test_dry_run_writes_nothing(db, uploads, org):
    conn = connect(db, org, calls_file(uploads, 120), model="calls")
    run = run_sync(conn, "calls", dry_run=True)
    assert (run.status, run.processed, run.created) == ("success", 120, 120)
    assert count_rows(db, Call, org) == 0
    assert count_rows(db, PhoneNumber, org) == 0


def test_max_records_stops_reading_early(db, uploads, org):
    conn = connect(db, org, calls_file(uploads, 400), model="calls")
    run = run_sync(conn, "calls", max_records=120, batch_size=50)
    assert (run.status, run.processed, run.created) == ("success", 120, 120)
    assert run.stats["pages"] == 3
    assert count_rows(db, Call, org) == 120
    with db.session() as s:
        ids = set(s.scalars(select(Call.external_id).where(Call.org_id == org)))
    assert ids == {f"call-{n}" for n in range(120)}


def test_missing_file_fails_the_run_and_the_test(db, uploads, org):
    path = uploads / "gone.csv"
    conn = connect(db, org, path, model="calls")
    run = run_sync(conn, "calls")
    assert run.status == "failed"
    assert run.error == f"The uploaded file gone.csv is missing ({path}); upload it again."
    with pytest.raises(ConnectorError, match="gone.csv is missing"):
        CsvUploadConnector(settings={"path": str(path)}).test_connection()
    with pytest.raises(ConnectorError, match="No file has been uploaded"):
        CsvUploadConnector(settings={}).test_connection()


def test_files_outside_the_instance_directory_and_old_formats_are_refused(tmp_path, uploads):
    outside = calls_file(tmp_path, 3)
    with pytest.raises(ConnectorError, match="outside the instance directory"):
        CsvUploadConnector(settings={"path": str(outside)}).test_connection()
    sneaky = uploads / ".." / ".." / ".." / "etc" / "passwd"
    with pytest.raises(ConnectorError, match="outside the instance directory|not a .csv"):
        CsvUploadConnector(settings={"path": str(sneaky)}).test_connection()
    secret = get_settings().instance_dir / "secret_key"
    with pytest.raises(ConnectorError, match="outside the instance directory's uploads"):
        CsvUploadConnector(settings={"path": "secret_key"}).test_connection()
    with pytest.raises(ConnectorError, match="outside the instance directory's uploads"):
        CsvUploadConnector(settings={"path": str(secret)}).test_connection()
    (uploads / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ConnectorError, match="old .xls workbook; save it as .xlsx"):
        CsvUploadConnector(settings={"path": str(uploads / "old.xls")}).test_connection()
    (uploads / "fake.xlsx").write_text("id,name\n1,x\n")
    with pytest.raises(ConnectorError, match="fake.xlsx is not a readable .xlsx workbook"):
        CsvUploadConnector(settings={"path": str(uploads / "fake.xlsx")}).test_connection()


def test_connection_counts_rows_and_lists_columns(uploads):
    path = calls_file(uploads, 1234)
    message = CsvUploadConnector(settings={"path": str(path), "model": "calls"}).test_connection()
    assert message == (
        "Found 1,234 rows with columns: id, started_at, status, direction, from, to, duration, "
        "phone_number, agent_email. They load as calls."
    )
    # relative paths are taken from the instance directory
    relative = path.relative_to(get_settings().instance_dir)
    assert CsvUploadConnector(settings={"path": str(relative)}).test_connection() == message


def test_missing_required_columns_are_named(db, uploads, org):
    header = ["id", "status", "from", "to"]
    path = write_csv(uploads / "thin.csv", header, [["c1", "answered", "+1", "+2"]])
    with pytest.raises(ConnectorError) as caught:
        CsvUploadConnector(settings={"path": str(path), "model": "calls"}).test_connection()
    assert str(caught.value) == (
        "Found 1 row with columns: id, status, from, to. "
        "Missing required column(s) for calls: started_at, direction"
    )
    mapped = {"path": str(path), "model": "calls", "mapping": {"started_at": "Start"}}
    with pytest.raises(ConnectorError, match=r"calls: started_at \(mapped to 'Start'\), direction"):
        CsvUploadConnector(settings=mapped).test_connection()
    run = run_sync(connect(db, org, path, model="calls"), "calls")
    assert run.status == "failed"
    assert run.error == "thin.csv: missing required column(s) for calls: started_at, direction"
    assert count_rows(db, Call, org) == 0


def test_the_model_setting_picks_the_stream_and_columns_pick_it_otherwise(db, uploads, org):
    path = calls_file(uploads, 30)
    run = run_sync(connect(db, org, path, model="calls"))
    assert (run.status, run.processed, run.created) == ("success", 30, 30)
    assert count_rows(db, Call, org) == 30 and count_rows(db, Contact, org) == 0
    # no model: the columns hold everything calls need, so the rows are calls
    other = make_org(db, "Other")
    run = run_sync(connect(db, other, path))
    assert (run.status, run.created) == ("success", 30)
    assert count_rows(db, Call, other) == 30 and count_rows(db, Contact, other) == 0
    message = CsvUploadConnector(settings={"path": str(path)}).test_connection()
    assert message.endswith("They load as calls.")
    with pytest.raises(ConnectorError, match="model must be one of contacts, calls"):
        CsvUploadConnector(settings={"path": str(path), "model": "deals"}).test_connection()


def test_contact_headers_match_ignoring_case_spaces_and_underscores(db, uploads, org):
    header = ["ID", "First Name", "LAST_NAME", "E-mail", "Company", "Stage", "Updated At", "Notes"]
    rows = [
        ["p1", "Ana", "Ortiz", "ana@example.com", "Acme", "lead", "2024-02-01T10:00:00Z", "vip"],
        ["p2", "Ben", "", "", "", "", "", ""],
        ["p3", "Eve", "Smith", "not-an-email", "", "", "", ""],
    ]
    conn = connect(db, org, write_csv(uploads / "people.csv", header, rows), model="contacts")
    run = run_sync(conn, "contacts")
    assert (run.status, run.created, run.failed) == ("partial", 2, 1)
    assert run.error_samples == [
        {
            "record": "p3",
            "stream": "contacts",
            "reason": "row 4: email 'not-an-email' is not an email address",
        }
    ]
    with db.session() as s:
        ana = s.scalar(select(Contact).where(Contact.external_id == "p1"))
        assert (ana.first_name, ana.last_name, ana.email, ana.company, ana.lifecycle_stage) == (
            "Ana",
            "Ortiz",
            "ana@example.com",
            "Acme",
            "lead",
        )
        assert ana.updated_at == datetime(2024, 2, 1, 10, 0, tzinfo=UTC)
        assert ana.raw["Notes"] == "vip"
        ben = s.scalar(select(Contact).where(Contact.external_id == "p2"))
        assert (ben.first_name, ben.last_name, ben.email, ben.company) == ("Ben", "", None, None)


def test_bom_and_semicolons_with_a_mapping(db, uploads, org):
    header = ["Ticket-Nr", "Betreff", "Status", "Priorität", "Fällig am", "Erledigt"]
    rows = [
        ["T-1", 'Drucker "HP" defekt; dringend', "In Progress", "HIGH", "2024-03-04 17:00", "nein"],
        ["T-2", "Passwort vergessen", "open", "normal", "", "ja"],
        ["T-3", "Monitor", "open", "critical", "", ""],
    ]
    path = write_csv(uploads / "tickets.csv", header, rows, delimiter=";", bom=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfTicket-Nr;Betreff;")
    mapping = {
        "subject": "Betreff",
        "priority": "Priorität",
        "due_at": "Fällig am",
        "sla_breached": "Erledigt",
    }
    settings = {"model": "tickets", "mapping": mapping, "id_column": "Ticket-Nr"}
    message = CsvUploadConnector(settings={"path": str(path), **settings}).test_connection()
    assert message.startswith("Found 3 rows with columns: Ticket-Nr, Betreff, Status, Priorität")
    run = run_sync(connect(db, org, path, **settings), "tickets")
    assert (run.status, run.created, run.failed) == ("partial", 2, 1)
    assert run.error_samples[0] == {
        "record": "T-3",
        "stream": "tickets",
        "reason": "row 4: priority 'critical' is not one of low, normal, high, urgent",
    }
    with db.session() as s:
        t1 = s.scalar(select(Ticket).where(Ticket.external_id == "T-1"))
        assert (t1.subject, t1.status, t1.priority) == (
            'Drucker "HP" defekt; dringend',
            "in_progress",
            "high",
        )
        assert t1.due_at == datetime(2024, 3, 4, 17, 0, tzinfo=UTC)
        assert t1.sla_breached is False and t1.raw["Ticket-Nr"] == "T-1"
        t2 = s.scalar(select(Ticket).where(Ticket.external_id == "T-2"))
        assert (t2.status, t2.due_at, t2.sla_breached) == ("open", None, True)


def write_cases_workbook(path: Path, count: int, *, bad_row: int | None = None) -> Path:
    workbook = Workbook()
    notes = workbook.active
    notes.title = "Notes"
    notes.append(["Exported from the case app"])
    sheet = workbook.create_sheet("Cases")
    sheet.append(
        ["Case ID", "Title", "Reported", "Status", "Office", "Cluster", "Tags", "Latitude"]
    )
    for n in range(count):
        reported = datetime(2024, 2, 1, 9, 30) + timedelta(hours=n)
        sheet.append(
            [
                100 + n,
                f"Pothole on street {n}",
                "soon" if n == bad_row else reported,
                ("new", "in_progress", "resolved")[n % 3],
                f"Office {n % 2}",
                "North",
                "roads, urgent" if n % 2 else "roads",
                45.5 + n / 100,
            ]
        )
    workbook.save(path)
    return path


def test_xlsx_sheet_loads_cases_with_offices_clusters_and_tags(db, uploads, org):
    path = write_cases_workbook(uploads / "cases.xlsx", 30, bad_row=5)
    settings = {
        "model": "cases",
        "sheet": "Cases",
        "mapping": {"id": "Case ID", "reported_at": "Reported"},
    }
    message = CsvUploadConnector(settings={"path": str(path), **settings}).test_connection()
    assert message == (
        "Found 30 rows with columns: Case ID, Title, Reported, Status, Office, Cluster, Tags, "
        "Latitude. They load as cases."
    )
    conn = connect(db, org, path, **settings)
    run = run_sync(conn, "cases", batch_size=10)
    assert (run.status, run.processed, run.created, run.failed) == ("partial", 30, 29, 1)
    assert run.error_samples == [
        {"record": "105", "stream": "cases", "reason": "row 7: reported_at 'soon' is not a date"}
    ]
    with db.session() as s:
        case = s.scalar(select(Case).where(Case.external_id == "103"))
        assert (case.title, case.status, case.latitude) == ("Pothole on street 3", "new", 45.53)
        assert case.reported_at == datetime(2024, 2, 1, 12, 30, tzinfo=UTC)
        assert s.get(Office, case.office_id).name == "Office 1"
        assert s.get(Cluster, case.cluster_id).name == "North"
        assert sorted(t.name for t in case.tags) == ["roads", "urgent"]
        assert case.raw["Reported"] == "2024-02-01T12:30:00"
        assert s.scalar(select(Office.cluster_id).where(Office.name == "Office 0")) == (
            case.cluster_id
        )
        assert sorted(s.scalars(select(Tag.name).where(Tag.org_id == org))) == ["roads", "urgent"]
    again = run_sync(conn, "cases", batch_size=10)
    assert (again.created, again.updated, again.unchanged, again.failed) == (0, 0, 29, 1)


def test_xlsx_first_sheet_is_the_default(db, uploads, org):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["id", "subject", "priority"])
    for n in range(12):
        sheet.append([f"k{n}", f"Subject {n}", "urgent" if n == 4 else "low"])
    workbook.save(uploads / "tickets.xlsx")
    conn = connect(db, org, uploads / "tickets.xlsx")
    run = run_sync(conn)
    assert (run.status, run.created) == ("success", 12)
    with db.session() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.external_id == "k4"))
        assert (ticket.subject, ticket.priority, ticket.status) == ("Subject 4", "urgent", "open")
    with pytest.raises(ConnectorError, match="has no sheet 'Missing'; it has Sheet"):
        CsvUploadConnector(
            settings={"path": str(uploads / "tickets.xlsx"), "sheet": "Missing"}
        ).test_connection()


def test_text_that_is_not_utf8_fails_with_advice(db, uploads, org):
    path = write_csv(
        uploads / "latin.csv",
        ["id", "subject"],
        [["1", "Café crème"]],
        encoding="cp1252",
    )
    run = run_sync(connect(db, org, path, model="tickets"), "tickets")
    assert run.status == "failed"
    assert "latin.csv is not UTF-8 text; save it as 'CSV UTF-8'" in run.error
    other = connect(db, org, path, model="tickets", encoding="cp1252")
    assert run_sync(other, "tickets").created == 1
    with db.session() as s:
        assert s.scalar(select(Ticket.subject).where(Ticket.org_id == org)) == "Café crème"


def test_rows_stream_in_pages_with_flat_memory(uploads):
    path = calls_file(uploads, 20_000, "big.csv")
    size_mb = path.stat().st_size / 1e6
    connector = CsvUploadConnector(settings={"path": str(path), "model": "calls"})
    stream = CsvUploadConnector.stream("calls")
    tracemalloc.start()
    try:
        pages = 0
        rows = 0
        for page in connector.read(ReadRequest(stream, page_size=100)):
            pages += 1
            rows += len(page.records)
            assert len(page.records) == 100 and page.total == 20_000
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (pages, rows) == (200, 20_000)
    # a page of rows and the sniffed sample, whatever the file size
    assert size_mb > 1.5
    assert peak < 750_000, f"peak {peak} bytes while reading a {size_mb:.1f} MB file"
