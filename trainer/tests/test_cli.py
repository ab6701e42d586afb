"""CLI contract: JSON lines on stdout, error line + exit code, atomic artifact, SIGTERM, determinism."""

import json
import signal
import subprocess
import sys
import time

import pytest

from conftest import CONFIGS, ENV, ROOT, run_cli, train

REQUIRED_MANIFEST = {"kind", "version", "created_at", "model", "inputs", "outputs", "files", "hyperparameters",
                     "metrics", "data", "trainer", "seed"}


@pytest.mark.parametrize("fixture", ["nextitem_art", "behavior_art", "sentiment_art", "intent_art"])
def test_progress_lines_are_well_formed(fixture, request):
    art, lines = request.getfixturevalue(fixture)
    assert {ln["event"] for ln in lines} <= {"phase", "progress", "done"}
    progress = [ln for ln in lines if ln["event"] == "progress"]
    assert progress, "no progress lines"
    for ln in progress:
        assert set(ln) == {"event", "epoch", "step", "total_steps", "loss", "metrics", "eta_s"}
        assert isinstance(ln["epoch"], int) and isinstance(ln["step"], int) and isinstance(ln["metrics"], dict)
        assert 0 < ln["step"] <= ln["total_steps"] and ln["eta_s"] >= 0
    assert [ln["step"] for ln in progress] == sorted(ln["step"] for ln in progress)
    phases = [ln["phase"] for ln in lines if ln["event"] == "phase"]
    assert phases[0] in ("training", "embedding") and phases[-2:] == ["evaluating", "exporting"]
    done = lines[-1]
    assert done["event"] == "done" and done["artifact"] == str(art) and done["metrics"]


@pytest.mark.parametrize("fixture", ["nextitem_art", "behavior_art", "sentiment_art", "intent_art"])
def test_manifest_describes_the_artifact(fixture, request):
    import hashlib
    art, lines = request.getfixturevalue(fixture)
    man = json.loads((art / "manifest.json").read_text())
    assert REQUIRED_MANIFEST <= set(man)
    assert man["model"]["opset"] == 17
    assert man["model"]["sha256"] == hashlib.sha256((art / "model.onnx").read_bytes()).hexdigest()
    for f in man["files"].values():
        assert hashlib.sha256((art / f["file"]).read_bytes()).hexdigest() == f["sha256"]
    assert man["data"]["sha256"], "snapshot hashes missing"
    assert man["metrics"] == lines[-1]["metrics"]
    for io in man["inputs"] + man["outputs"]:
        assert io["shape"][0] == "batch"
    assert not [p for p in art.parent.iterdir() if p.name.startswith(".")], "temp dir left behind"


def test_unknown_hyperparameter_gives_error_line_and_exit_2(events_snap, tmp_path):
    rc, lines, _ = run_cli("train", "--kind", "next-item", "--data", events_snap, "--out", tmp_path / "a",
                           "--config", '{"no_such_key": 1}')
    assert rc == 2 and lines[-1]["event"] == "error" and "no_such_key" in lines[-1]["message"]
    assert not (tmp_path / "a").exists()


def test_out_of_range_and_missing_data_are_errors(events_snap, tmp_path):
    rc, lines, _ = run_cli("train", "--kind", "behavior", "--data", events_snap, "--out", tmp_path / "a",
                           "--config", '{"lr": 50}')
    assert rc == 2 and "lr" in lines[-1]["message"]
    rc, lines, _ = run_cli("train", "--kind", "next-item", "--data", tmp_path / "nope", "--out", tmp_path / "b")
    assert rc == 2 and lines[-1]["event"] == "error"
    (tmp_path / "empty").mkdir()
    rc, lines, _ = run_cli("train", "--kind", "next-item", "--data", tmp_path / "empty", "--out", tmp_path / "c")
    assert rc == 2 and "events.csv" in lines[-1]["message"]


def test_bad_arguments_give_an_error_line_and_exit_2(tmp_path):
    rc, lines, err = run_cli("train", "--kind", "no-such-kind", "--data", tmp_path, "--out", tmp_path / "a")
    assert rc == 2 and lines[-1]["event"] == "error" and "--kind" in lines[-1]["message"], lines
    assert "usage:" in err
    rc, lines, _ = run_cli("evaluate", "--kind", "next-item", "--data", tmp_path)
    assert rc == 2 and lines[-1]["event"] == "error" and "--model" in lines[-1]["message"], lines


def test_bad_snapshot_row_names_the_line(tmp_path):
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "events.csv").write_text(
        "user_id,product_id,type,occurred_at,lat,lng,session_id,quantity,price\n"
        "u1,p1,view,2025-03-01T10:00:00.000Z,,,,1,\nu1,p2,teleport,2025-03-01T10:01:00.000Z,,,,1,\n")
    rc, lines, _ = run_cli("train", "--kind", "next-item", "--data", tmp_path / "s", "--out", tmp_path / "a")
    assert rc == 2 and "line 3" in lines[-1]["message"] and "teleport" in lines[-1]["message"]


def test_existing_nonempty_out_is_refused(events_snap, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_text("keep me")
    rc, lines, _ = run_cli("train", "--kind", "next-item", "--data", events_snap, "--out", tmp_path / "a")
    assert rc == 2 and (tmp_path / "a" / "x").read_text() == "keep me"


def test_sigterm_exits_nonzero_without_artifact(events_snap, tmp_path):
    out = tmp_path / "a"
    p = subprocess.Popen([sys.executable, "-m", "meridian_trainer", "train", "--kind", "next-item", "--data",
                          str(events_snap), "--out", str(out), "--config",
                          json.dumps({**json.loads((CONFIGS / "smoke_next_item.json").read_text()), "epochs": 2000,
                                      "patience": 1000})],
                         cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = p.stdout.readline()  # wait until training has started
    assert json.loads(first)["event"] == "phase"
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    rest = p.stdout.read().splitlines()
    assert p.wait(timeout=60) == 143
    assert json.loads(rest[-1])["event"] == "error"
    assert not out.exists()
    assert not [x for x in tmp_path.iterdir() if x.name.startswith(".")], "temp dir left behind"


def test_same_seed_gives_identical_model(events_snap, tmp_path):
    cfg = CONFIGS / "smoke_next_item.json"
    a = train("next-item", events_snap, tmp_path / "a", cfg, "--seed", "3")
    b = train("next-item", events_snap, tmp_path / "b", cfg, "--seed", "3")
    ma = json.loads((tmp_path / "a" / "manifest.json").read_text())
    mb = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert ma["model"]["sha256"] == mb["model"]["sha256"]
    assert a[-1]["metrics"] == b[-1]["metrics"]
    train("next-item", events_snap, tmp_path / "c", cfg, "--seed", "4")
    assert json.loads((tmp_path / "c" / "manifest.json").read_text())["model"]["sha256"] != ma["model"]["sha256"]


def test_hyperparameters_json_is_current():
    p = subprocess.run([sys.executable, "-m", "meridian_trainer", "hyperparameters"], cwd=ROOT, env=ENV,
                       capture_output=True, text=True, check=True)
    assert json.loads(p.stdout) == json.loads((ROOT / "hyperparameters.json").read_text()), \
        "run: .venv/bin/python scripts/gen_hparams.py"
    sys.path.insert(0, str(ROOT / "scripts"))
    import gen_hparams
    readme = (ROOT / "README.md").read_text()
    assert gen_hparams.tables(json.loads(p.stdout)) in readme, "README tables stale: run scripts/gen_hparams.py"
