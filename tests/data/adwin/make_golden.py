"""Writes River's drift.ADWIN outputs for tests/metrics/adwin_test.cc.

Regenerate (River 0.26.1, Python 3.11; the output depends only on the seeds below):

    /root/.cache/sluice/river-0.26.1/bin/python tests/data/adwin/make_golden.py

from the repository root (or pass the output folder as the only argument). It writes, in
tests/data/adwin/:

  series.csv    one row per series: name, ADWIN's options, length, number of detections.
  <name>.csv    the series' input values, column `x`.
  expected.csv  River's state after the update at `index` of series `series`: drift_detected,
                n_detections, width, total, variance, estimation. Rows are written for every
                detection and the updates just before and after it, every 97th update (97 is
                prime, so the rows fall at every phase of the clock) and the last update.
                The detection indices are exactly the rows with drift_detected == 1.

Every float is Python's repr (the shortest string that reads back as the same binary64), so a
correctly rounded parser such as strtod gives River's exact doubles: compare with ==.
"""

import os
import random
import sys

from river import drift

CHECKPOINT_EVERY = 97


def docstring():
    # River's own docstring example: River says it detects at index 1023.
    rng = random.Random(12345)
    return rng.choices([0, 1], k=1000) + rng.choices(range(4, 8), k=1000)


def segments(seed, parts, draw):
    """Concatenates draw(rng, *params) over `parts`, a list of (length, params)."""
    rng = random.Random(seed)
    return [draw(rng, *params) for length, params in parts for _ in range(length)]


def gaussian_shift():
    parts = [(1500, (0.0, 1.0)), (1500, (1.0, 1.0)), (1000, (1.0, 3.0)), (1000, (-0.5, 1.0))]
    return segments(1, parts, lambda rng, mu, sigma: rng.gauss(mu, sigma))


def anomaly_scores():
    # Scores in [0, 1] whose distribution moves up, as a degrading model's would.
    parts = [(2000, (2.0, 8.0)), (2000, (4.0, 6.0))]
    return segments(2, parts, lambda rng, a, b: rng.betavariate(a, b))


def bernoulli_errors():
    # A classifier's 0/1 errors whose rate changes.
    parts = [(3000, (0.1,)), (3000, (0.25,)), (2000, (0.05,))]
    return segments(3, parts, lambda rng, p: 1 if rng.random() < p else 0)


def small_options():
    parts = [(700, (0.0, 1.0)), (700, (0.8, 1.0)), (800, (0.0, 0.5)), (800, (3.0, 2.0))]
    return segments(4, parts, lambda rng, mu, sigma: rng.gauss(mu, sigma))


def single_bucket_rows():
    # max_buckets=1: merging empties rows, so the scan walks over empty rows.
    parts = [(500, (0.0, 1.0)), (500, (2.0, 1.0))] * 3
    return segments(0, parts, lambda rng, mu, sigma: rng.gauss(mu, sigma))


def aggressive():
    # Options that cut often and several buckets at a time: every update is tested, at any split.
    parts = [(150, (0.0, 1.0)), (150, (1.5, 1.0)), (100, (-1.0, 0.3)), (100, (4.0, 3.0))] * 5
    return segments(7, parts, lambda rng, mu, sigma: rng.gauss(mu, sigma))


def large_offset():
    # Means near 1e6: cancellation in the variance updates shows any change of operand order.
    parts = [(1500, (1e6, 1.0)), (1500, (1e6 + 2.0, 1.0)), (1000, (1e6 - 1.0, 0.1))]
    return segments(6, parts, lambda rng, mu, sigma: rng.gauss(mu, sigma))


def long_stream():
    # 20,000 points, rounded to 4 decimals to keep the file small, with several drifts of
    # different sizes and a variance change.
    rng = random.Random(5)
    parts = [(3000, 0.0, 1.0), (2500, 0.7, 1.0), (3000, 0.7, 2.0), (2000, -1.0, 1.0),
             (4000, -0.8, 1.0), (2500, 2.5, 0.5), (3000, 0.0, 1.0)]
    return [round(rng.gauss(mu, sigma), 4) for length, mu, sigma in parts for _ in range(length)]


DEFAULTS = dict(delta=0.002, clock=32, max_buckets=5, min_window_length=5, grace_period=10)
SERIES = [
    ("docstring", DEFAULTS, docstring),
    ("gaussian_shift", DEFAULTS, gaussian_shift),
    ("anomaly_scores", DEFAULTS, anomaly_scores),
    ("bernoulli_errors", DEFAULTS, bernoulli_errors),
    ("small_options",
     dict(delta=0.1, clock=1, max_buckets=3, min_window_length=2, grace_period=5), small_options),
    ("single_bucket_rows", dict(DEFAULTS, clock=1, max_buckets=1), single_bucket_rows),
    ("aggressive",
     dict(delta=0.5, clock=1, max_buckets=2, min_window_length=1, grace_period=0), aggressive),
    ("large_offset", DEFAULTS, large_offset),
    ("long", DEFAULTS, long_stream),
]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tests", "data", "adwin")
    series_rows = ["name,delta,clock,max_buckets,min_window_length,grace_period,length,"
                   "n_detections"]
    expected_rows = ["series,index,drift_detected,n_detections,width,total,variance,estimation"]
    for name, options, make in SERIES:
        values = [float(x) for x in make()]
        adwin = drift.ADWIN(**options)
        states = []
        for x in values:
            adwin.update(x)
            states.append((adwin.drift_detected, adwin.n_detections, adwin.width, adwin.total,
                           adwin.variance, adwin.estimation))
        detections = [i for i, state in enumerate(states) if state[0]]
        keep = {i for i in range(0, len(values), CHECKPOINT_EVERY)} | {len(values) - 1}
        for i in detections:
            keep |= {i - 1, i, i + 1}
        for i in sorted(k for k in keep if 0 <= k < len(values)):
            detected, n_detections, width, total, variance, estimation = states[i]
            expected_rows.append(",".join([name, str(i), str(int(detected)), str(n_detections)] +
                                          [repr(float(v)) for v in (width, total, variance,
                                                                    estimation)]))
        series_rows.append(",".join([name, repr(float(options["delta"]))] +
                                    [str(options[k]) for k in ("clock", "max_buckets",
                                                               "min_window_length",
                                                               "grace_period")] +
                                    [str(len(values)), str(len(detections))]))
        with open(os.path.join(out_dir, name + ".csv"), "w") as f:
            f.write("x\n" + "".join(repr(x) + "\n" for x in values))
        print(f"{name}: {len(values)} values, detections at {detections}")
    with open(os.path.join(out_dir, "series.csv"), "w") as f:
        f.write("\n".join(series_rows) + "\n")
    with open(os.path.join(out_dir, "expected.csv"), "w") as f:
        f.write("\n".join(expected_rows) + "\n")


if __name__ == "__main__":
    main()
