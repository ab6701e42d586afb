from dataclasses import dataclass

import pytest

from meridian_trainer import hparams
from meridian_trainer.hparams import ConfigError, hp


@dataclass
class C:
    lr: float = hp(1e-3, min=1e-6, max=1.0)
    n: int = hp(4, min=1, max=10, arch=True)
    mode: str = hp("a", choices=["a", "b"])
    flag: bool = hp(True)
    hs: list[float] = hp([1.0, 2.0], min=0.5, max=10.0)


def test_defaults_base_and_overrides_apply_in_order():
    c = hparams.parse(C, {"lr": 0.1}, base={"lr": 0.5, "n": 7, "gone": 1})
    assert (c.lr, c.n, c.mode, c.hs) == (0.1, 7, "a", [1.0, 2.0])


@pytest.mark.parametrize("bad", [{"lr": 2.0}, {"lr": "x"}, {"n": 1.5}, {"n": True}, {"mode": "c"},
                                 {"flag": 1}, {"hs": []}, {"hs": [0.1]}, {"unknown": 1}])
def test_invalid_values_are_rejected(bad):
    with pytest.raises(ConfigError):
        hparams.parse(C, bad)


def test_int_is_accepted_for_float_and_integral_float_for_int():
    c = hparams.parse(C, {"lr": 1, "n": 3.0})
    assert c.lr == 1.0 and c.n == 3 and isinstance(c.n, int)


def test_spec_lists_limits_and_architecture_keys():
    s = hparams.spec(C)
    assert s["lr"] == {"type": "float", "default": 1e-3, "min": 1e-6, "max": 1.0, "help": ""}
    assert s["n"]["architecture"] is True and s["hs"]["type"] == "float[]" and s["mode"]["choices"] == ["a", "b"]
    assert hparams.arch_keys(C) == ["n"]


def test_config_arg_accepts_inline_json_and_files(tmp_path):
    assert hparams.load_config_arg('{"a": 1}') == {"a": 1}
    (tmp_path / "c.json").write_text('{"b": 2}')
    assert hparams.load_config_arg(str(tmp_path / "c.json")) == {"b": 2}
    with pytest.raises(ConfigError):
        hparams.load_config_arg("{not json")
