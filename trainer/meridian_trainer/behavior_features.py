"""Behavior model inputs, computed from a user's events up to a prediction time `now`.

This file IS the feature contract: the server computes the same numbers from the same
events (README "Serving contract / behavior" restates it). All times in seconds, UTC.

History = the user's events with occurred_at <= now (at an event anchor: the events up
to and including that event), in time order.

Sequence inputs (last L events of the history, left-padded):
  event_types[j] = 1 view, 2 search, 3 cart, 4 purchase, 5 favorite; 0 = padding
  event_ages[j]  = log1p(hours between the event and now); 0 at padding
  event_item_repeats[j] = log1p(number of earlier events among these L with the same non-empty
                   product_id); 0 at padding and for events without a product (only in models
                   trained with item_repeats, i.e. whose inputs list it)

Profile input (PROFILE_FEATURES order, raw values; the graph normalises them):
  hours_since_last_{event,view,cart,purchase}: log1p(min(hours, 720)); 720 -> log1p(720) when none
  count_{type}_{1d,7d,30d}: log1p(number of events of that type with now - w < occurred_at <= now)
  distinct_items_{1d,7d}: log1p(distinct non-empty product_ids in the window)
  days_since_first_seen: log1p(min(days since the earliest of first event / users.created_at, 365))
  spend_30d: log1p(sum of price * quantity over purchases with a price in the last 30 days)
  hour_sin/cos = sin/cos(2*pi*hour_of_day/24) with hour_of_day = (now mod 86400) / 3600 (fractional)
  dow_sin/cos  = sin/cos(2*pi*dow/7), dow = ((floor(now / 86400) + 3) mod 7), Monday = 0
"""

import math

import numpy as np

from .data import EVENT_TYPES

HOUR, DAY = 3600.0, 86400.0
RECENCY_CAP_H = 720.0
TYPES = EVENT_TYPES  # view, search, cart, purchase, favorite -> 1..5
WINDOWS = (("1d", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY))

PROFILE_FEATURES = (
    ["hours_since_last_event", "hours_since_last_view", "hours_since_last_cart", "hours_since_last_purchase"]
    + [f"count_{t}_{w}" for t in TYPES for w, _ in WINDOWS]
    + ["distinct_items_1d", "distinct_items_7d", "days_since_first_seen", "spend_30d",
       "hour_sin", "hour_cos", "dow_sin", "dow_cos"]
)
# The logistic-regression baseline's recency/frequency features (not a model input).
RF_FEATURES = ["hours_since_last_event", "hours_since_last_purchase",
               "count_all_1d", "count_all_7d", "count_all_30d", "count_purchase_30d"]


class UserHistory:
    """One user's events as arrays, with prefix sums for O(log n) window counts."""

    def __init__(self, ts, types, products, amount, first_seen):
        self.ts = ts                      # (n,) float64, sorted
        self.types = types                # (n,) int64 in 1..5
        self.products = products          # (n,) object
        self.first_seen = first_seen      # float seconds
        n = len(ts)
        self.cum = np.zeros((6, n + 1), dtype=np.int64)  # cum[k, e] = #events of type k in [0:e]
        for k in range(1, 6):
            self.cum[k, 1:] = np.cumsum(types == k)
        self.cum[0] = self.cum[1:].sum(0)  # all types
        self.spend = np.concatenate([[0.0], np.cumsum(np.where(types == 4, np.nan_to_num(amount), 0.0))])
        # last[k][j] = index of the latest event of type k at or before j (-1 if none); k=0 any
        self.last = np.full((6, n), -1, dtype=np.int64)
        idx = np.arange(n)
        self.last[0] = idx
        for k in range(1, 6):
            self.last[k] = np.maximum.accumulate(np.where(types == k, idx, -1)) if n else idx

    def features(self, now: float, e: int, L: int):
        """History = events [0:e]. Returns (types (L,), ages (L,), item repeats (L,), profile (F,), rf (6,))."""
        ts = self.ts
        s = max(0, e - L)
        types = np.zeros(L, dtype=np.int64)
        ages = np.zeros(L, dtype=np.float32)
        reps = np.zeros(L, dtype=np.float32)
        types[L - (e - s):] = self.types[s:e]
        ages[L - (e - s):] = np.log1p(np.maximum(now - ts[s:e], 0.0) / HOUR)
        seen = {}
        for j, p in enumerate(self.products[s:e]):
            if p:
                reps[L - (e - s) + j] = math.log1p(seen.get(p, 0))
                seen[p] = seen.get(p, 0) + 1

        def since(k):
            j = self.last[k][e - 1] if e > 0 else -1
            h = (now - ts[j]) / HOUR if j >= 0 else RECENCY_CAP_H
            return math.log1p(min(max(h, 0.0), RECENCY_CAP_H))

        prof = [since(0), since(1), since(3), since(4)]
        lo = {w: min(int(np.searchsorted(ts, now - sec, side="right")), e) for w, sec in WINDOWS}
        for k in range(1, 6):
            for w, _ in WINDOWS:
                prof.append(math.log1p(self.cum[k, e] - self.cum[k, lo[w]]))
        for w in ("1d", "7d"):
            prof.append(math.log1p(len({p for p in self.products[lo[w]:e] if p})))
        first = min(self.first_seen, ts[0]) if len(ts) else now
        prof.append(math.log1p(min(max(now - first, 0.0) / DAY, 365.0)))
        prof.append(math.log1p(max(self.spend[e] - self.spend[lo["30d"]], 0.0)))
        hod = (now % DAY) / HOUR
        dow = (math.floor(now / DAY) + 3) % 7
        prof += [math.sin(2 * math.pi * hod / 24), math.cos(2 * math.pi * hod / 24),
                 math.sin(2 * math.pi * dow / 7), math.cos(2 * math.pi * dow / 7)]
        rf = [prof[0], prof[3]] + [math.log1p(self.cum[0, e] - self.cum[0, lo[w]]) for w, _ in WINDOWS] \
            + [math.log1p(self.cum[4, e] - self.cum[4, lo["30d"]])]
        return types, ages, reps, np.array(prof, dtype=np.float32), np.array(rf, dtype=np.float32)
