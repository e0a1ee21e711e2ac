"""`staktrakr alerts`: evaluate the rules (alert_rules.py), notify through Apprise, remember in `alert_state`.

Every poller runs it every 15 minutes against the shared database. An alert is sent once when
it starts, again at most every ALERT_REPEAT while it lasts, and a "resolved" message is sent
once when it clears; the claim on each send is one atomic statement (store/queries/alerts.py),
so two pollers evaluating at the same moment send it once. Notifications go through Apprise
(https://github.com/caronc/apprise: ntfy, Discord, Slack, e-mail, Pushover, webhooks...) to the
URLs of ALERT_URLS; every text is redacted of the settings' secrets before it leaves. A failed
notification releases its claim, so the next run tries again.

When the database cannot be read there is no shared state: this host sends its own
`database_unreachable:<poller>` alert (with its outbox's size), remembered in
`var/alert-state.json` with the same repeat rule, and its "resolved" message once a run reads
the database again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from staktrakr.catalog import Catalog
from staktrakr.catalog.load import load_run_catalog
from staktrakr.errors import ConfigError, StoreUnavailable
from staktrakr.export.files import write_text_atomic
from staktrakr.log import RedactSecrets
from staktrakr.ops.alert_rules import Alert, evaluate
from staktrakr.settings import Settings
from staktrakr.store import Store
from staktrakr.store.queries.alerts import claim_resolve, claim_send, open_alerts, release_send
from staktrakr.timeutil import iso_z, parse_time, utcnow

log = logging.getLogger(__name__)
TITLE_PREFIX = "[staktrakr]"


@dataclass
class AlertsResult:
    """One evaluation: the active alerts, what this poller sent, repeated, resolved, and what failed."""

    evaluated_at: str
    poller_id: str
    dry_run: bool
    active: list[dict[str, Any]] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)          # keys notified now (new or repeated)
    resolved: list[str] = field(default_factory=list)      # keys whose "resolved" message went out now
    held: list[str] = field(default_factory=list)          # active, sent recently (by any poller): not repeated yet
    failed: list[str] = field(default_factory=list)        # notifications Apprise could not deliver
    notify: bool = True                                    # False when ALERT_URLS is unset
    catalog_error: str | None = None
    database_error: str | None = None                      # the rules could not read the database

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Notifier:
    """Apprise with the ALERT_URLS targets; `send` returns True when every target took the message."""

    def __init__(self, settings: Settings) -> None:
        import apprise

        self._apprise = apprise.Apprise()
        self._redact = RedactSecrets(settings.secret_values()).redact
        for number, url in enumerate(settings.alert_url_list, start=1):
            if not self._apprise.add(url):
                raise ConfigError(f"ALERT_URLS: entry {number} is not a notification URL Apprise knows "
                                  "(see https://github.com/caronc/apprise/wiki)")

    def send(self, title: str, body: str, resolved: bool = False) -> bool:
        import apprise

        kind = apprise.NotifyType.SUCCESS if resolved else apprise.NotifyType.FAILURE
        return bool(self._apprise.notify(title=self._redact(title), body=self._redact(body), notify_type=kind))


def message(alert: Alert, settings: Settings, repeat: bool) -> tuple[str, str]:
    """Title and body of a firing alert's notification."""
    again = " (still)" if repeat else ""
    return (f"{TITLE_PREFIX} {alert.title}{again}",
            f"{alert.detail}\nalert: {alert.key}\nseen by poller {settings.poller_id}")


def run_alerts(settings: Settings, store: Store, *, dry_run: bool = False, now: datetime | None = None,
               notifier: Notifier | None = None) -> AlertsResult:
    """Evaluate, then (unless `dry_run` or ALERT_URLS is unset) claim and send each alert due and each
    resolution. Raises StoreUnavailable when the database cannot be read, ConfigError for a bad ALERT_URLS."""
    now = now or utcnow()
    result = AlertsResult(evaluated_at=iso_z(now), poller_id=settings.poller_id, dry_run=dry_run,
                          notify=bool(settings.alert_url_list))
    try:
        _evaluate_and_send(settings, store, result, now, notifier)
    except StoreUnavailable as exc:
        result.database_error = str(exc)
        _database_unreachable(settings, store, result, now, notifier)
    return result


def _evaluate_and_send(settings: Settings, store: Store, result: AlertsResult, now: datetime,
                       notifier: Notifier | None) -> None:
    dry_run = result.dry_run
    catalog: Catalog | None = None
    try:
        catalog = load_run_catalog(settings, store)
    except ConfigError as exc:  # the feed and job rules still run; the catalog's problem is shown
        result.catalog_error = str(exc)
    active = evaluate(settings, store, catalog, now)
    result.active = [asdict(alert) for alert in active]
    if not dry_run:
        store.ensure_schema()
    state = {row["alert_key"]: row for row in _open_or_empty(store)}
    repeat = timedelta(seconds=settings.alert_repeat)
    if dry_run or not result.notify:
        result.held = [a.key for a in active if a.key in state and not _due(state[a.key], now, repeat)]
        result.sent = [a.key for a in active if a.key not in result.held]
        result.resolved = [key for key, row in state.items() if key not in {a.key for a in active}
                           and row["scope"] in (None, settings.poller_id)]
        return
    sender = notifier or Notifier(settings)
    for alert in active:
        sent_before = alert.key in state and state[alert.key]["last_sent"] is not None
        title, body = message(alert, settings, repeat=sent_before)
        if not claim_send(store, alert.key, alert.scope, f"{title}\n{body}", now, repeat, settings.poller_id):
            result.held.append(alert.key)
            continue
        if sender.send(title, body):
            result.sent.append(alert.key)
        else:
            release_send(store, alert.key, settings.poller_id)
            result.failed.append(alert.key)
    active_keys = {alert.key for alert in active}
    for key, row in state.items():
        if key in active_keys or row["scope"] not in (None, settings.poller_id):
            continue  # another host's local alert: only that host can see it clear
        if claim_resolve(store, key, now):
            first = str(row["first_seen"])
            if sender.send(f"{TITLE_PREFIX} resolved: {key}", f"{key} cleared at {iso_z(now)} (since {first})\n"
                           f"seen by poller {settings.poller_id}", resolved=True):
                result.resolved.append(key)
            else:
                result.failed.append(f"resolved:{key}")
    _resolve_local(settings, sender, now, result)


def _local_state_path(settings: Settings) -> Path:
    return settings.var_dir / "alert-state.json"


def _read_local(settings: Settings) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(_local_state_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _database_unreachable(settings: Settings, store: Store, result: AlertsResult, now: datetime,
                          notifier: Notifier | None) -> None:
    """No shared state: this host's own alert, deduplicated in var/alert-state.json."""
    outbox = store.outbox.report()
    alert = Alert(f"database_unreachable:{settings.poller_id}", f"database unreachable from {settings.poller_id}",
                  f"{result.database_error}; {outbox['entries']} outbox entries ({outbox['rows']} rows) wait on "
                  f"{settings.poller_id}", scope=settings.poller_id)
    result.active = [asdict(alert)]
    state = _read_local(settings)
    seen = state.get(alert.key)
    due = seen is None or now - parse_time(seen["last_sent"]) >= timedelta(seconds=settings.alert_repeat)
    if not due:
        result.held.append(alert.key)
        return
    if result.dry_run or not result.notify:
        result.sent.append(alert.key)
        return
    title, body = message(alert, settings, repeat=seen is not None)
    if (notifier or Notifier(settings)).send(title, body):
        state[alert.key] = {"first_seen": seen["first_seen"] if seen else iso_z(now), "last_sent": iso_z(now)}
        write_text_atomic(_local_state_path(settings), json.dumps(state, indent=2, sort_keys=True) + "\n")
        result.sent.append(alert.key)
    else:
        result.failed.append(alert.key)


def _resolve_local(settings: Settings, sender: Notifier, now: datetime, result: AlertsResult) -> None:
    """The database answered: this host's database_unreachable alert, if it sent one, is resolved."""
    state = _read_local(settings)
    for key, seen in sorted(state.items()):
        if sender.send(f"{TITLE_PREFIX} resolved: {key}", f"{key} cleared at {iso_z(now)} (since "
                       f"{seen.get('first_seen')})\nseen by poller {settings.poller_id}", resolved=True):
            result.resolved.append(key)
            del state[key]
        else:
            result.failed.append(f"resolved:{key}")
    if result.resolved:
        write_text_atomic(_local_state_path(settings), json.dumps(state, indent=2, sort_keys=True) + "\n")


def _due(row: dict[str, Any], now: datetime, repeat: timedelta) -> bool:
    from staktrakr.timeutil import parse_time

    return row["last_sent"] is None or now - parse_time(str(row["last_sent"])) >= repeat


def _open_or_empty(store: Store) -> list[dict[str, Any]]:
    from staktrakr.errors import StatementRejected

    try:
        return open_alerts(store)
    except StatementRejected as exc:
        if exc.missing_table:  # dry run on a database not migrated yet: nothing was ever sent
            return []
        raise
