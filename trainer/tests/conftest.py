"""Shared fixtures: tiny synthetic snapshots and smoke-trained artifacts (one per kind, per session)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

import synth  # noqa: E402

CONFIGS = ROOT / "configs"
ENV = {**os.environ, "MERIDIAN_TRAINER_THREADS": "2", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}


def run_cli(*args, timeout=1200):
    """Runs the CLI; returns (returncode, parsed stdout lines, stderr)."""
    p = subprocess.run([sys.executable, "-m", "meridian_trainer", *map(str, args)], cwd=ROOT, env=ENV,
                       capture_output=True, text=True, timeout=timeout)
    lines = [json.loads(ln) for ln in p.stdout.splitlines() if ln.strip()]
    return p.returncode, lines, p.stderr


def train(kind, data, out, config, *extra):
    rc, lines, err = run_cli("train", "--kind", kind, "--data", data, "--out", out, "--config", config, *extra)
    assert rc == 0, f"train failed ({rc}): {lines[-1:]}\n{err[-3000:]}"
    assert lines[-1]["event"] == "done"
    return lines


@pytest.fixture(scope="session")
def events_snap(tmp_path_factory):
    return synth.write_events_snapshot(tmp_path_factory.mktemp("snap") / "events", n_users=60, n_items=120)


@pytest.fixture(scope="session")
def events_snap_more(tmp_path_factory):
    """Same shape, more items (ids p0101..p0260): fine-tuning must grow the vocabulary."""
    return synth.write_events_snapshot(tmp_path_factory.mktemp("snap") / "events2", n_users=50, n_items=160,
                                       seed=7, start_item=100)


@pytest.fixture(scope="session")
def nextitem_art(events_snap, tmp_path_factory):
    out = tmp_path_factory.mktemp("art") / "next-item"
    lines = train("next-item", events_snap, out, CONFIGS / "smoke_next_item.json")
    return out, lines


@pytest.fixture(scope="session")
def behavior_art(events_snap, tmp_path_factory):
    out = tmp_path_factory.mktemp("art") / "behavior"
    lines = train("behavior", events_snap, out, CONFIGS / "smoke_behavior.json")
    return out, lines


@pytest.fixture(scope="session")
def sentiment_snap(tmp_path_factory):
    return synth.write_texts_snapshot(tmp_path_factory.mktemp("snap") / "sentiment", "sentiment")


@pytest.fixture(scope="session")
def intent_snap(tmp_path_factory):
    return synth.write_texts_snapshot(tmp_path_factory.mktemp("snap") / "intent", "intent")


@pytest.fixture(scope="session")
def sentiment_art(sentiment_snap, tmp_path_factory):
    out = tmp_path_factory.mktemp("art") / "sentiment"
    lines = train("sentiment", sentiment_snap, out, CONFIGS / "smoke_sentiment.json")
    return out, lines


@pytest.fixture(scope="session")
def intent_art(intent_snap, tmp_path_factory):
    out = tmp_path_factory.mktemp("art") / "intent"
    lines = train("intent", intent_snap, out, CONFIGS / "smoke_intent.json")
    return out, lines
