import pytest
import torch

from meridian_trainer import device
from meridian_trainer.hparams import ConfigError


def test_auto_follows_torch(monkeypatch):
    monkeypatch.delenv("MERIDIAN_TRAINER_DEVICE", raising=False)
    assert device.pick().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_cpu_and_bad_values(monkeypatch):
    monkeypatch.setenv("MERIDIAN_TRAINER_DEVICE", "CPU")
    assert device.pick() == torch.device("cpu")
    monkeypatch.setenv("MERIDIAN_TRAINER_DEVICE", "tpu")
    with pytest.raises(ConfigError, match="auto, cpu or cuda"):
        device.pick()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_gpu_is_a_config_error(monkeypatch):
    monkeypatch.setenv("MERIDIAN_TRAINER_DEVICE", "cuda")
    with pytest.raises(ConfigError, match="sees no CUDA device"):
        device.pick()
