"""First-load benchmark: the overview in headless Chromium at 10 Mbit/s, cold and warm cache.

The same seeded PostgreSQL database as the load benchmark, the app under gunicorn (2
workers). Chromium (Selenium + the DevTools protocol) throttles its network with
`Network.emulateNetworkConditions` (`--firstload-mbit`, default 10 Mbit/s down, 5 up,
`--firstload-latency` 40 ms), signs a manager in through the /login form, and then opens
the overview:

- **cold**: the browser cache cleared (`Network.clearBrowserCache`; the session cookie
  stays), then a fresh navigation to `/`;
- **warm**: a second navigation to `/` with the cache as the cold load left it;
- **reload**: the browser's reload button on the warm page (conditional GETs show here).

For each: bytes on the wire (the sum of `encodedDataLength` of every `Network.loadingFinished`,
headers included), requests that went to the network, 304 answers, answers from the cache,
and the time from navigation start until the KPI cards are filled (the first
`#overview-cards .kpi-card` that is not a skeleton, seen by a MutationObserver the page gets
through `Page.addScriptToEvaluateOnNewDocument`). Bytes and requests are counted until the
network is quiet for a second, so the Plotly chunk fetched after the cards counts too.
Times are medians of `--firstload-runs` (default 3).

Variants (bench/variant_app.py): `fixed` (as shipped), `nocompress` (compression off), `naive`
(before issue 11's speed work). Targets: the cold first page under 2 MB on the wire and the
KPI cards filled in under 1.5 s at 10 Mbit/s.

Run: `python -m bench firstload` (about 3 minutes); `--quick` runs once, writes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import BenchError
from bench.doc import end_mark, write_section
from bench.load import QUICK_SIZES, SIZES
from bench.webapp import precompressed

SECTION = "## First load: the overview in Chromium at 10 Mbit/s"
MARK = end_mark("bench/first_load.py")
VARIANTS = ("naive", "nocompress", "fixed")
TARGET_BYTES = 2_000_000
TARGET_KPI_MS = 1500
CARDS_FILLED = "#overview-cards .kpi-card:not(.kpi-skeleton)"
WATCH_CARDS = """
(function () {
  function check() {
    if (window.__kpiFilled === undefined && document.querySelector(SELECTOR)) {
      window.__kpiFilled = performance.now();
    }
  }
  new MutationObserver(check).observe(document, {childList: true, subtree: true});
})();
""".replace("SELECTOR", json.dumps(CARDS_FILLED))


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    chromedriver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    if not (Path(chromium).exists() and Path(chromedriver).exists()):
        raise BenchError("needs chromium and chromedriver (Debian: chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1440,900",
    ):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="syncboard-firstload-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    driver.set_page_load_timeout(120)
    return driver, profile


def _throttle(driver, mbit: float, latency_ms: float) -> None:
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": latency_ms,
            "downloadThroughput": mbit * 1_000_000 / 8,
            "uploadThroughput": mbit * 1_000_000 / 16,
        },
    )
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_CARDS})


def _sign_in(driver, base: str, email: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + "/login")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 60).until(lambda d: "/login" not in d.current_url)
    _wait_cards(driver)


def _wait_cards(driver, timeout: float = 60) -> float:
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return float(
            WebDriverWait(driver, timeout, poll_frequency=0.05).until(
                lambda d: d.execute_script("return window.__kpiFilled")
            )
        )
    except Exception as exc:  # noqa: BLE001
        raise BenchError(f"the KPI cards were not filled within {timeout:.0f} s") from exc


def _network(driver, quiet: float = 1.0, limit: float = 60) -> dict[str, Any]:
    """Drain the performance log until no request is in flight for `quiet` seconds."""
    sent: dict[str, str] = {}
    finished: dict[str, float] = {}
    status: dict[str, int] = {}
    cached: set[str] = set()
    last = time.monotonic()
    deadline = last + limit
    while time.monotonic() < deadline:
        entries = driver.get_log("performance")
        for entry in entries:
            message = json.loads(entry["message"])["message"]
            method, params = message.get("method"), message.get("params", {})
            rid = params.get("requestId")
            if method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith("data:"):
                    sent[rid] = url
            elif method == "Network.responseReceived":
                response = params["response"]
                status[rid] = response.get("status", 0)
                if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
                    cached.add(rid)
            elif method == "Network.requestServedFromCache":
                cached.add(rid)
            elif method == "Network.loadingFinished":
                finished[rid] = params.get("encodedDataLength", 0)
            elif method == "Network.loadingFailed":
                finished[rid] = 0
        if entries:
            last = time.monotonic()
        pending = [r for r in sent if r not in finished]
        if not pending and time.monotonic() - last >= quiet:
            break
        time.sleep(0.1)
    on_wire = [r for r in sent if r not in cached]
    return {
        "bytes": int(sum(finished.get(r, 0) for r in on_wire)),
        "requests": len(on_wire),
        "not_modified": sum(1 for r in on_wire if status.get(r) == 304),
        "from_cache": len([r for r in sent if r in cached]),
        "revalidated": sorted(_short(sent[r]) for r in on_wire if status.get(r) == 304),
        "largest": sorted(
            ((int(finished.get(r, 0)), _short(sent[r])) for r in on_wire),
            reverse=True,
        )[:3],
    }


def _short(url: str) -> str:
    path = url.split("?")[0].split("/", 3)[-1]
    return path.rsplit("/", 1)[-1] or "/ (page)"


def _timing(driver) -> dict[str, float]:
    nav = driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "return n ? {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd} : {};"
    )
    return {k: round(float(v)) for k, v in (nav or {}).items()}


def measure(
    base: str, email: str, password: str, options, compressed: Path
) -> dict[str, list[dict]]:
    driver, profile = _driver()
    out: dict[str, list[dict]] = {"cold": [], "warm": [], "reload": []}
    try:
        _throttle(driver, options.firstload_mbit, options.firstload_latency)
        _sign_in(driver, base, email, password)
        _network(driver)
        # A deployed server has made its best encodings after its first visitors; so does
        # this one before anything is measured (the first visitor gets brotli 5).
        precompressed(compressed)
        for _ in range(options.firstload_runs):
            for kind in ("cold", "warm", "reload"):
                if kind == "cold":
                    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
                    driver.get("about:blank")
                    driver.get_log("performance")
                if kind == "reload":
                    driver.refresh()
                else:
                    driver.get(base + "/")
                kpi = _wait_cards(driver)
                net = _network(driver)
                out[kind].append({"kpi_ms": round(kpi), **net, **_timing(driver)})
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return out


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def add_arguments(parser) -> None:
    parser.add_argument("--firstload-mbit", type=float, default=10.0)
    parser.add_argument("--firstload-latency", type=float, default=40.0, help="ms each way")
    parser.add_argument("--firstload-runs", type=int, default=3)
    parser.add_argument("--firstload-variants", default=",".join(VARIANTS))
    parser.add_argument("--firstload-reuse-db", default=None, metavar="NAME")


def run(options) -> int:
    from bench.webapp import DEMO_PASSWORD, gunicorn_app, machine, seeded_database

    if options.quick:
        options.firstload_runs = 1
    sizes = QUICK_SIZES if options.quick else SIZES
    variants = [v.strip() for v in options.firstload_variants.split(",") if v.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="syncboard-firstload-"))
    results: dict[str, dict] = {}
    with seeded_database(dict(sizes), reuse=options.firstload_reuse_db) as db:
        email = next(e for e, role in db.accounts if role == "manager")
        for variant in variants:
            with gunicorn_app(db.app_url, workdir, variant=variant) as base:
                print(f"firstload: {variant} ...", file=sys.stderr, flush=True)
                compressed = workdir / "instance" / "compressed"
                results[variant] = measure(base, email, DEMO_PASSWORD, options, compressed)
                print(json.dumps(results[variant]), file=sys.stderr, flush=True)
    info = {"machine": machine(), "sizes": sizes, "options": options}
    text = section(results, info)
    print(text)
    if options.write:
        write_section(SECTION, text, MARK)
    fixed = results.get("fixed")
    if fixed and (
        _median(fixed["cold"], "bytes") > TARGET_BYTES
        or _median(fixed["cold"], "kpi_ms") > TARGET_KPI_MS
    ):
        print("first-load targets missed (see the table)", file=sys.stderr)
    return 0


def section(results: dict[str, dict], info: dict) -> str:
    o = info["options"]
    out = [
        SECTION,
        "",
        f"Machine: {info['machine']}.",
        f"Headless Chromium through Selenium; the network throttled to {o.firstload_mbit:g} Mbit/s "
        f"down, {o.firstload_mbit / 2:g} up, {o.firstload_latency:g} ms latency "
        "(`Network.emulateNetworkConditions`); a manager of the larger demo organisation "
        f"({info['sizes']['calls']:,} calls in {info['sizes']['orgs']} organisations), "
        "gunicorn with 2 workers on the same machine. Medians of "
        f"{o.firstload_runs} run(s). *KPI cards* is the time from navigation start until the "
        "first filled KPI card; *bytes* are on the wire (compressed sizes plus headers), "
        "counted until the network is quiet, so the Plotly chunk fetched after the cards is in.",
        "",
        "| variant | load | bytes on the wire | requests | 304s | from cache | KPI cards (ms) | DOMContentLoaded (ms) | largest |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for variant, kinds in results.items():
        for kind in ("cold", "warm", "reload"):
            runs = kinds[kind]
            if not runs:
                continue
            largest = ", ".join(
                f"{name} {size / 1024:.0f} KB" for size, name in runs[-1]["largest"]
            )
            out.append(
                f"| {variant} | {kind} | {_median(runs, 'bytes') / 1024 / 1024:.2f} MiB | "
                f"{_median(runs, 'requests'):.0f} | {_median(runs, 'not_modified'):.0f} | "
                f"{_median(runs, 'from_cache'):.0f} | {_median(runs, 'kpi_ms'):.0f} | "
                f"{_median(runs, 'dcl') if all('dcl' in r for r in runs) else 0:.0f} | {largest} |"
            )
    for variant, kinds in results.items():
        again = kinds["warm"][-1].get("revalidated") if kinds["warm"] else None
        if again:
            out += ["", f"Revalidated (304) on a warm load, `{variant}`: {', '.join(again)}."]
    fixed = results.get("fixed")
    if fixed and fixed["cold"]:
        size = _median(fixed["cold"], "bytes")
        kpi = _median(fixed["cold"], "kpi_ms")
        out += [
            "",
            f"Targets, cold first page (`fixed`): under 2 MB on the wire — "
            f"{size / 1_000_000:.2f} MB ({size / 1024 / 1024:.2f} MiB), {'met' if size <= TARGET_BYTES else 'missed'}; KPI "
            f"cards under {TARGET_KPI_MS} ms — {kpi:.0f} ms, "
            f"{'met' if kpi <= TARGET_KPI_MS else 'missed'}.",
        ]
    out += [
        "",
        "Re-run: `python -m bench firstload` (`--firstload-runs 3 --firstload-mbit 10 "
        "--firstload-variants naive,nocompress,fixed`).",
        "",
        MARK,
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    os.chdir(Path(__file__).resolve().parents[1])
    from bench.__main__ import main as bench_main

    raise SystemExit(bench_main(["firstload", *sys.argv[1:]]))
