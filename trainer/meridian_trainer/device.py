"""Where training runs. MERIDIAN_TRAINER_DEVICE = auto (default: CUDA when torch sees a GPU,
else CPU) | cpu | cuda. Data preparation, evaluation loops and ONNX export stay on the CPU;
only the model's forward/backward passes move."""

import os

import torch

from .hparams import ConfigError
from .report import log


def pick() -> torch.device:
    want = os.environ.get("MERIDIAN_TRAINER_DEVICE", "auto").strip().lower() or "auto"
    if want == "auto":
        want = "cuda" if torch.cuda.is_available() else "cpu"
    if want not in ("cpu", "cuda"):
        raise ConfigError(f"MERIDIAN_TRAINER_DEVICE={want!r}: use auto, cpu or cuda")
    if want == "cuda" and not torch.cuda.is_available():
        raise ConfigError("MERIDIAN_TRAINER_DEVICE=cuda, but torch sees no CUDA device")
    log(f"training on {want}" + (f" ({torch.cuda.get_device_name(0)})" if want == "cuda" else ""))
    return torch.device(want)


def of(module: torch.nn.Module) -> torch.device:
    return next(module.parameters()).device
