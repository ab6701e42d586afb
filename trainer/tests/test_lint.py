"""Lint gate: ruff (pinned in requirements.txt, rules in ruff.toml) over the package and the tests."""

import subprocess
import sys

from conftest import ROOT


def test_ruff_finds_nothing():
    p = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "meridian_trainer", "tests"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"ruff check flagged something (fix it, or narrow ruff.toml):\n{p.stdout}{p.stderr}"
