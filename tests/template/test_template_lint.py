"""template.yaml passes cfn-lint with the serverless rules, exactly as `make lint` runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cfn_model import ROOT

CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))
SERVERLESS_RULES = ["--append-rules", "cfn_lint_serverless.rules"]


def _cfn_lint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CFN_LINT, *SERVERLESS_RULES, "--", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cfn_lint_with_serverless_rules_passes_on_template() -> None:
    result = _cfn_lint("template.yaml")

    assert result.returncode == 0, f"cfn-lint found problems:\n{result.stdout}{result.stderr}"


def test_serverless_rules_are_loaded_so_a_queue_without_redrive_is_flagged(tmp_path: Path) -> None:
    # Given a template whose only queue has no dead-letter queue
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Orphan:\n    Type: AWS::SQS::Queue\n"
    )

    # When it is linted with the same options
    result = _cfn_lint(str(bad))

    # Then the cfn-lint-serverless rule ES6000 (SQS No Redrive Policy) fires: the pack is active
    assert "ES6000" in result.stdout, result.stdout + result.stderr
