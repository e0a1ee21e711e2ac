"""What `GET /api/dashboard` returns and the page shows: the fleet, coverage, failures and prices.

It starts from `collect_status` (the same freshness verdicts, outbox, this hour's coverage and
chronic failures as `staktrakr status`) and adds the dashboard's reads (store/queries/dashboard.py,
one batch). Read-only. A database that is still empty gives the sections with empty lists; one
that is down (or hung) gives `database.error` and every section read from it with `unknown: true`,
its `error` and None for its counts (never zeros), never an exception. Times are ISO-8601 UTC,
durations and ages seconds, prices USD. The shape is documented in the README ("Operator dashboard").
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from staktrakr.catalog import Catalog
from staktrakr.catalog.load import load_run_catalog
from staktrakr.errors import ConfigError, StatementRejected, StoreError
from staktrakr.jobs.status import collect_status
from staktrakr.ops.dashboard.cache import DashboardCache
from staktrakr.ops.dashboard.prices import prices_panel
from staktrakr.ops.jobs import job_timeout_s
from staktrakr.rules.bands import METALS
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.queries.dashboard import DashboardRows, DashboardSpans, read_dashboard_rows
from staktrakr.timeutil import WINDOW, floor_window, iso_z, parse_time

# A run still `running` this long after its job's timeout was not ended by its runner: stuck.
STUCK_MARGIN = timedelta(minutes=5)


def _percent(part: int, whole: int) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)


def _fleet(rows: DashboardRows, now: datetime) -> dict[str, Any]:
    """Per poller and job: the newest runs and the 24 h stats; stuck and orphaned runs."""
    pollers: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows.runs:
        job = pollers[row["poller_id"]].setdefault(row["job"], {"runs": [], "stats_24h": None})
        job["runs"].append({key: row[key] for key in ("run_id", "started_at", "finished_at", "status", "total",
                                                      "captured", "failures", "error", "duration_s")})
    for row in rows.run_stats:
        job = pollers[row["poller_id"]].setdefault(row["job"], {"runs": [], "stats_24h": None})
        job["stats_24h"] = {
            "runs": int(row["runs"]), "ok_runs": int(row["ok_runs"] or 0),
            "success_percent": _percent(int(row["ok_runs"] or 0), int(row["runs"])),
            "captured": int(row["captured"] or 0), "total": int(row["total"] or 0),
            "capture_percent": _percent(int(row["captured"] or 0), int(row["total"] or 0)),
            "avg_duration_s": row["avg_duration_s"],
        }
    stuck, orphaned = [], []
    for row in rows.open_runs:
        entry = {key: row[key] for key in ("run_id", "poller_id", "job", "started_at", "status", "error")}
        if row["status"] != "running":
            orphaned.append(entry)
            continue
        try:
            running_s = (now - parse_time(row["started_at"])).total_seconds()
        except ValueError:
            continue
        if running_s > job_timeout_s(row["job"]) + STUCK_MARGIN.total_seconds():
            stuck.append({**entry, "running_s": round(running_s, 1)})
    return {
        "pollers": {poller: {"jobs": dict(sorted(jobs.items()))} for poller, jobs in sorted(pollers.items())},
        "stuck_runs": stuck, "orphaned_runs": orphaned,
    }


def _retail_coverage(rows: DashboardRows, catalog: Catalog | None, spans: DashboardSpans,
                     this_hour: dict[str, Any] | None) -> dict[str, Any]:
    """Hourly bars of enabled targets priced per UTC hour (today's catalog), the current hour
    from `status`, and the 24 h average: the mean of the 24 complete hours before the current one."""
    targets = {target.key for target in catalog.targets()} if catalog is not None else set()
    priced: dict[str, int] = defaultdict(int)
    for row in rows.priced_hours:
        if (row["coin_slug"], row["vendor"]) in targets:
            priced[row["hour"]] += 1
    hourly: list[dict[str, Any]] = [
        {"hour": hour, "covered": priced.get(hour, 0), "percent": _percent(priced.get(hour, 0), len(targets))}
        for hour in spans.hour_keys()
    ]
    complete: list[float] = [bar["percent"] for bar in hourly[-25:-1] if bar["percent"] is not None]
    return {"enabled": len(targets), "latest_hour": this_hour,
            "avg_24h_percent": round(sum(complete) / len(complete), 1) if complete else None, "hourly": hourly}


def _spot_coverage(rows: DashboardRows, spans: DashboardSpans) -> dict[str, Any]:
    """Every 15-minute slot of the spot span per metal: the poller that wrote it, or None."""
    newest = floor_window(spans.now)
    count = spans.spot_hours * 4
    slots = [(newest - WINDOW * back).strftime("%Y-%m-%dT%H:%M") for back in range(count - 1, -1, -1)]
    written: dict[str, dict[str, str]] = defaultdict(dict)
    for row in rows.spot_slots:
        written[row["metal"]][row["slot"]] = row["poller_id"]
    metals = {}
    for metal in METALS:
        cells = [written[metal].get(slot) for slot in slots]
        by_poller: dict[str, int] = defaultdict(int)
        for poller in cells:
            if poller is not None:
                by_poller[poller] += 1
        filled = sum(by_poller.values())
        metals[metal] = {"filled": filled, "expected": count, "percent": _percent(filled, count),
                         "by_poller": dict(sorted(by_poller.items())), "slots": cells}
    return {"slots": slots, "metals": metals}


def _failures(rows: DashboardRows, spans: DashboardSpans, status: dict[str, Any]) -> dict[str, Any]:
    """Failures per UTC day (zeros included), chronic pairs with their last error and URL, and
    this hour's enabled targets without a price."""
    counts = {row["day"]: int(row["failures"]) for row in rows.failures_by_day}
    days = [(spans.now - timedelta(days=back)).strftime("%Y-%m-%d") for back in range(spans.failure_days - 1, -1, -1)]
    urls = {(row["coin_slug"], row["vendor_id"]): row["url"] for row in rows.failure_urls}
    chronic = [{**pair, "last_url": urls.get((pair["coin_slug"], pair["vendor_id"]))} for pair in status["chronic"]]
    coverage = status.get("coverage") or {}
    return {"per_day": [{"day": day, "failures": counts.get(day, 0)} for day in days], "chronic": chronic,
            "missing_this_hour": coverage.get("missing", [])}


def _newest_job_runs(fleet: dict[str, Any], job: str) -> dict[str, Any]:
    """Each poller's newest run of `job` (from the fleet's runs), by poller."""
    newest = {}
    for poller, entry in fleet["pollers"].items():
        runs = entry["jobs"].get(job, {}).get("runs", [])
        if runs:
            newest[poller] = runs[0]
    return newest


def _age_s(text: str | None, now: datetime) -> float | None:
    if not text:
        return None
    try:
        return round(max(0.0, (now - parse_time(text)).total_seconds()), 1)
    except ValueError:
        return None


def _read_rows(store: Store, spans: DashboardSpans, settings: Settings, cache: DashboardCache | None) -> DashboardRows:
    """All reads in one batch; with a cache, the big three only from where its settled rows stop."""
    if cache is None:
        return read_dashboard_rows(store, spans, settings.spot_bands)
    with cache.lock:
        planned = cache.plan(spans)
        return cache.merge(planned, read_dashboard_rows(store, planned, settings.spot_bands))


def build_dashboard(settings: Settings, store: Store, now: datetime,
                    cache: DashboardCache | None = None) -> dict[str, Any]:
    """The whole dashboard as one JSON-able dict (see the module docstring; README documents keys).
    `cache` keeps settled rows between calls (the server's); without it every row is read.
    `fleet.health` is left empty here: the server fills it from FLEET_HEALTH_URLS."""
    status = collect_status(settings, store, now, runs_per_poller=0).as_dict()
    spans = DashboardSpans(now)
    rows = DashboardRows()
    error = status["database_error"]
    catalog: Catalog | None = None
    if error is None:
        try:
            catalog = load_run_catalog(settings, store)
        except ConfigError as exc:
            error = str(exc)
        except StoreError as exc:
            error = str(exc)
    if error is None:
        try:
            rows = _read_rows(store, spans, settings, cache)
        except StatementRejected as exc:
            if not exc.missing_table:  # a fresh database: empty panels, not an outage
                error = str(exc)
        except StoreError as exc:
            error = str(exc)
    fleet = _fleet(rows, now)
    fleet["health"] = []
    feeds = status["freshness"]["feeds"]
    merge_runs = _newest_job_runs(fleet, "merge")
    newest_merge = max(merge_runs.values(), key=lambda run: run["started_at"], default=None)
    merge_at = newest_merge["finished_at"] if newest_merge else None
    dashboard = {
        "generated_at": iso_z(now),
        "poller": settings.poller_id,
        "database": {"display": status["database"], "error": error, "status": status["freshness"]["status"]},
        "freshness": status["freshness"],
        "fleet": fleet,
        "coverage": {
            "retail": _retail_coverage(rows, catalog, spans, status["coverage"]),
            "spot": _spot_coverage(rows, spans),
            "goldback": feeds["goldback"],
            "publish": {**feeds["publish"], "runs": _newest_job_runs(fleet, "publish")},
            "merge": {"newest": merge_at, "age_s": _age_s(merge_at, now), "runs": merge_runs},
            "outbox": status["outbox"],
        },
        "failures": _failures(rows, spans, status),
        "prices": prices_panel(rows.daily_prices, rows.recent_windows, catalog, now),
    }
    return dashboard if error is None else _mark_unknown(dashboard, error)


def _mark_unknown(dashboard: dict[str, Any], error: str) -> dict[str, Any]:
    """A database that could not be read: every section built from it says so (`unknown: true`,
    `error`) and its counts are None, so nothing reads as zero, never or none. The outbox (a
    local file) and the fleet's health checks (HTTP) are still known."""
    flag = {"unknown": True, "error": error}
    fleet = dashboard["fleet"]
    fleet.update({"pollers": None, "stuck_runs": None, "orphaned_runs": None, **flag})
    coverage = dashboard["coverage"]
    coverage["retail"].update({"enabled": None, "latest_hour": None, "avg_24h_percent": None, "hourly": None, **flag})
    coverage["spot"].update({"slots": None, "metals": None, **flag})
    coverage["merge"].update({"newest": None, "age_s": None, "runs": None, **flag})
    coverage["publish"].update({"runs": None})
    dashboard["failures"] = {"per_day": None, "chronic": None, "missing_this_hour": None, **flag}
    dashboard["prices"] = {**dashboard["prices"], "coins": None, **flag}
    return dashboard

