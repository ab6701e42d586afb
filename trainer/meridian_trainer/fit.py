"""The training loop every kind shares: epochs of shuffled mini-batches, the optimizer step,
a validation score after each (eval_every-th) epoch, early stopping with the best weights
restored, the max_minutes budget and the progress lines of report.py.

A trainer supplies only what is model-specific:
  batch_loss(idx) -> loss tensor for the training rows idx (a LongTensor of row numbers)
  validate(train_loss) -> (metrics for the epoch line, score; higher is better)
"""

import math

import torch

from .report import BestWeights, Progress, log, phase


def fit(model, opts: list, n: int, batch_loss, validate, cfg, seed: int, what: str, min_delta: float = 0.0,
        sched=None) -> None:
    """Trains `model` on rows 0..n-1 and leaves it in eval mode holding the best weights.

    opts: optimizers stepped in this order (zeroed in this order too); sched: an LR scheduler
    stepped after every optimizer step. cfg supplies epochs, batch_size, patience, max_minutes
    and, when it has one, eval_every (validation only every that many epochs, and after the last).
    Early stopping logs `what` as the name of the validation score.
    """
    eval_every = getattr(cfg, "eval_every", 1)
    prog = Progress(cfg.epochs * math.ceil(n / cfg.batch_size))
    g = torch.Generator().manual_seed(seed)
    keep, step = BestWeights(cfg.patience, what, min_delta=min_delta), 0
    phase("training")
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=g)
        total, k = 0.0, 0
        for b in range(0, n, cfg.batch_size):
            loss = batch_loss(perm[b:b + cfg.batch_size])
            for opt in opts:
                opt.zero_grad(set_to_none=True)
            loss.backward()
            for opt in opts:
                opt.step()
            if sched is not None:
                sched.step()
            step += 1
            total, k = total + loss.item(), k + 1
            prog.step(epoch, step, loss.item())
        if epoch % eval_every and epoch != cfg.epochs:
            continue
        model.eval()
        metrics, score = validate(total / k)
        prog.epoch_end(epoch, step, total / k, metrics)
        if keep.update(score, model, epoch):
            break
        if prog.over_budget(cfg.max_minutes):
            log(f"time budget of {cfg.max_minutes} min reached at epoch {epoch}; "
                f"best validation {what} {abs(keep.best):.4f}")
            break
    keep.restore(model)
    model.eval()
