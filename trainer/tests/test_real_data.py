"""Slow: the converters on the real datasets produce snapshots the loader reads with the documented counts."""

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from meridian_trainer import data

D = Path("/work/shared/data")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not D.exists(), reason="needs /work/shared/data")]


def convert(*args):
    subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, check=True, capture_output=True)


def test_taobao_snapshot(tmp_path):
    convert("scripts/convert_taobao.py", D / "taobao-userbehavior-head/UserBehavior_head.csv.gz", tmp_path)
    ev = data.load_events(tmp_path)
    assert len(ev) == 84_474 and len(ev.users) == 815
    assert sorted(int((ev.type == data.TYPE_INDEX[t]).sum()) for t in ("view", "cart", "favorite", "purchase")) \
        == sorted([75_871, 4_497, 2_356, 1_750])


def test_games_snapshot_keeps_order(tmp_path):
    convert("scripts/convert_amazon.py", "games", D / "amazon-games-sasrec/Video.txt.gz", tmp_path)
    ev = data.load_events(tmp_path)
    assert len(ev) == 287_107 and len(ev.users) == 31_013
    assert len(set(ev.product)) == 23_715


def test_beauty_snapshot(tmp_path):
    convert("scripts/convert_amazon.py", "beauty", D / "amazon-seqrec-s3rec/Beauty.txt.gz", tmp_path)
    ev = data.load_events(tmp_path)
    assert len(ev) == 198_502 and len(ev.users) == 22_363 and len(set(ev.product)) == 12_101


def test_banking77_uses_the_official_test_split(tmp_path):
    convert("scripts/convert_texts.py", "banking77", D / "intent-banking77", tmp_path)
    t = data.load_texts(tmp_path, "intent")
    tr, va, te = data.split_texts(t, 0)
    assert len(t.text) == 13_083 and len(te) == 3_080 and len(set(t.label)) == 77
    assert len(tr) + len(va) == 10_003


def test_shopping_split_is_stratified_8_1_1(tmp_path):
    convert("scripts/convert_texts.py", "shopping", D / "chinese-review-sentiment/online_shopping_10_cats.csv.gz",
            tmp_path)
    t = data.load_texts(tmp_path, "sentiment")
    tr, va, te = data.split_texts(t, 0)
    assert len(t.text) == 62_773 and abs(len(te) - 6_277) <= 10 and abs(len(va) - 6_277) <= 10
