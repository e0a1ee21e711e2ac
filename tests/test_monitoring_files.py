"""home-scraper/prometheus-alerts.yml and grafana-dashboard.json: valid, and about metrics /metrics serves.

The rules are checked with `promtool check rules` and one alert is unit-tested with `promtool test
rules` when promtool is installed (Debian's `prometheus` package); they are always parsed, and every
metric either file names must be one staktrakr/ops/metrics.py exports.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

RULES = REPO / "home-scraper" / "prometheus-alerts.yml"
DASHBOARD = REPO / "home-scraper" / "grafana-dashboard.json"
EXPORTED = set(re.findall(r'"(staktrakr_[a-z0-9_]+)"', (REPO / "staktrakr" / "ops" / "metrics.py").read_text()))


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\b(staktrakr_[a-z0-9_]+)", expr))


def test_rules_parse_and_name_exported_metrics():
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["alert"] for rule in rules} >= {"StaktrakrFeedStale", "StaktrakrDatabaseDown", "StaktrakrJobFailing",
                                                  "StaktrakrOutboxGrowing", "StaktrakrTargetDown"}
    for rule in rules:
        assert rule["labels"]["severity"] in ("warning", "critical") and rule["annotations"]["summary"]
        assert metric_names(rule["expr"]) <= EXPORTED, rule["alert"]


def test_dashboard_parses_and_names_exported_metrics():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels) and dashboard["uid"] == "staktrakr-pollers"
    names: set[str] = set()
    for panel in panels:
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"} and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        for target in panel["targets"]:
            names |= metric_names(target["expr"])
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}"
    assert names and names <= EXPORTED
    assert "staktrakr_feed_stale" in names


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (Debian package prometheus)")
def test_promtool_checks_the_rules_and_the_stale_feed_alert_fires(tmp_path: Path):
    promtool = shutil.which("promtool")
    assert promtool is not None
    checked = subprocess.run([promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    unit = tmp_path / "rules_test.yml"
    unit.write_text(yaml.safe_dump({
        "rule_files": [str(RULES)], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [
            {"series": 'staktrakr_feed_stale{feed="retail",instance="home:8080",job="staktrakr"}',
             "values": "0 0 1 1 1 1 1 1 1 1"},
            {"series": 'staktrakr_database_up{instance="home:8080",job="staktrakr"}', "values": "1x10"}],
            "alert_rule_test": [
                {"eval_time": "4m", "alertname": "StaktrakrFeedStale", "exp_alerts": []},
                {"eval_time": "8m", "alertname": "StaktrakrFeedStale", "exp_alerts": [{
                    "exp_labels": {"severity": "warning", "feed": "retail", "instance": "home:8080", "job": "staktrakr"},
                    "exp_annotations": {
                        "summary": "staktrakr retail feed is stale",
                        "description": "The newest retail item is older than its threshold (or unknown) as home:8080 "
                                       "sees it. Check `staktrakr status` and the cron log."}}]},
                {"eval_time": "9m", "alertname": "StaktrakrDatabaseDown", "exp_alerts": []}]}],
    }), encoding="utf-8")
    tested = subprocess.run([promtool, "test", "rules", str(unit)], capture_output=True, text=True, check=False)
    assert tested.returncode == 0, tested.stdout + tested.stderr
