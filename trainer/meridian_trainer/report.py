"""Progress reporting: one JSON object per line on stdout, nothing else on stdout.

The job runner parses every stdout line as JSON. To keep that promise even when a
library prints (transformers, the ONNX exporter, C extensions writing to fd 1), the
CLI calls `claim_stdout()` first: it keeps a private duplicate of fd 1 for these
lines and points fd 1 and `sys.stdout` at stderr.
"""

import json
import math
import os
import sys
import time

_out = None  # the private stdout stream, set by claim_stdout()


def claim_stdout():
    global _out
    if _out is not None:
        return
    sys.stdout.flush()
    fd = os.dup(1)
    os.dup2(2, 1)  # anything else written to fd 1 now lands on stderr
    _out = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
    sys.stdout = sys.stderr


def _clean(x):
    # JSON has no NaN/Infinity: report them as null rather than emit invalid JSON.
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def emit(event: str, **fields):
    line = json.dumps(_clean({"event": event, **fields}), ensure_ascii=False, allow_nan=False)
    (_out or sys.stdout).write(line + "\n")
    (_out or sys.stdout).flush()


def log(msg: str):
    print(f"[trainer] {msg}", file=sys.stderr, flush=True)


def phase(name: str):
    emit("phase", phase=name)


class Progress:
    """Emits progress lines for a loop of `total_steps` optimizer steps.

    Step lines are throttled to one per `every_s` seconds (a 10k-step epoch would
    otherwise print 10k lines); epoch-end lines (with metrics) are always printed.
    """

    def __init__(self, total_steps: int, every_s: float = 2.0):
        self.total_steps = max(1, total_steps)
        self.every_s = every_s
        self.t0 = time.time()
        self.last = 0.0

    def eta(self, step: int) -> float:
        done = max(step, 1)
        return round((time.time() - self.t0) / done * (self.total_steps - step), 1)

    def step(self, epoch: int, step: int, loss: float):
        now = time.time()
        if now - self.last < self.every_s and step < self.total_steps:
            return
        self.last = now
        emit("progress", epoch=epoch, step=step, total_steps=self.total_steps,
             loss=round(float(loss), 6), metrics={}, eta_s=self.eta(step))

    def over_budget(self, max_minutes: float) -> bool:
        return max_minutes > 0 and time.time() - self.t0 > max_minutes * 60

    def epoch_end(self, epoch: int, step: int, loss: float, metrics: dict):
        self.last = time.time()
        emit("progress", epoch=epoch, step=step, total_steps=self.total_steps,
             loss=round(float(loss), 6), metrics=_round(metrics), eta_s=self.eta(step))


class BestWeights:
    """Early stopping on a validation score (higher is better): keeps a copy of the best
    weights and says when `patience` epochs went by without an improvement above `min_delta`."""

    def __init__(self, patience: int, what: str, min_delta: float = 0.0):
        self.patience, self.what, self.min_delta = patience, what, min_delta
        self.best, self.state, self.bad = -math.inf, None, 0

    def update(self, score: float, model, epoch: int) -> bool:
        """Records this epoch's score; True when training should stop."""
        if score > self.best + self.min_delta:
            self.best, self.bad = score, 0
            self.state = {k: v.clone() for k, v in model.state_dict().items()}
            return False
        self.bad += 1
        if self.bad >= self.patience:
            log(f"early stop at epoch {epoch}; best validation {self.what} {abs(self.best):.4f}")
            return True
        return False

    def restore(self, model):
        if self.state is not None:
            model.load_state_dict(self.state)


def _round(m: dict) -> dict:
    return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in m.items()}
