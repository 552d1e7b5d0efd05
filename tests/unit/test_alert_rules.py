"""The alert rules are valid and do what they say: `promtool check rules` on alerts.yml and
`promtool test rules` on alerts_test.yml (each alert firing, and not firing just short of
its threshold). promtool comes from Debian's prometheus package (`make setup`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

RULES_DIR = Path(__file__).resolve().parents[2] / "infra" / "prometheus"
RULES, RULE_TESTS = RULES_DIR / "alerts.yml", RULES_DIR / "alerts_test.yml"
ALERTS = {
    "ChirpPostTweetSlow",
    "ChirpHomeTimelineSlow",
    "ChirpConsumerLagHigh",
    "ChirpProjectionStalled",
    "ChirpTimelineCacheHitRatioLow",
    "ChirpDeadLettersRising",
}


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool not found: `make setup` installs it (Debian's prometheus package)")
    return found


def run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], cwd=RULES_DIR, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_rules_are_valid(promtool: str) -> None:
    checked = run(promtool, "check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in checked.stdout


def test_each_alert_fires_and_holds_back_as_its_unit_tests_say(promtool: str) -> None:
    tested = run(promtool, "test", "rules", RULE_TESTS.name)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    rules = yaml.safe_load(RULES.read_text())
    defined = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert defined == ALERTS
    cases = [
        case
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
    ]
    fired = {case["alertname"] for case in cases if case["exp_alerts"]}
    held = {case["alertname"] for case in cases if not case["exp_alerts"]}
    assert fired == ALERTS
    assert held == ALERTS


def test_the_rules_read_only_metrics_chirp_exports() -> None:
    """A renamed metric would leave its alert silent forever: every name a rule reads is one
    that api/metrics.py or streams/metrics.py defines."""
    root = Path(__file__).resolve().parents[2]
    sources = "".join(
        (root / path).read_text() for path in ("api/metrics.py", "streams/metrics.py")
    )
    rules = yaml.safe_load(RULES.read_text())
    read = {
        name
        for group in rules["groups"]
        for rule in group["rules"]
        for name in re.findall(r"\bchirp_[a-z_]+", rule["expr"])
    }
    assert len(read) >= len(ALERTS)
    for name in read:
        defined = re.sub(r"_(bucket|total|count|sum)$", "", name)
        assert f'"{defined}"' in sources, name
