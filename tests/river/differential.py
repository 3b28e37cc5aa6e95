#!/usr/bin/env python3
"""Differential test: `sluice replay` against the real River 0.26.1, on every event, with ==.

For a fixed, seeded list of random configurations it writes a stream (`sluice gen`, or the first
rows of datasets/creditcard/creditcard_head4002.csv), runs `sluice replay` on it, runs the same
pipelines through River, and compares with == (no tolerance):

  * every anomaly score of MinMaxScaler | HalfSpaceTrees (trees, height, window, seed, with and
    without Time) and every fraud probability of StandardScaler or MinMaxScaler |
    LogisticRegression (SGD learning rate, intercept_lr, l2, clip_gradient, Log loss weights),
    under a label delay of N events (stream.simulate_qa(moment=None, delay=N)) or of S seconds of
    event time (stream.simulate_qa(moment='Time', delay=S));
  * the summary's final river_rocauc / river_rolling_rocauc of both models against River's
    metrics.ROCAUC() and metrics.RollingROCAUC(W) fed the same (label, score) pairs in the order
    simulate_qa reveals the labels; again for a few --rows truncations of the same stream.

sluice's HalfSpaceTrees learns every event at once (it needs no label); only the metrics wait for
the label. The River side therefore runs HST score_one/learn_one in event order, and
LogisticRegression (predict_proba_one at the question, learn_one at the answer) through
simulate_qa, as evaluate.progressive_val_score does.

It also feeds River 0.26.1 the inputs of tests/data/oracle and compares with those files.

Run it with the python of scripts/river-venv.sh:
  python tests/river/differential.py --sluice build/tools/sluice [--long] [--only K] [--keep DIR]
The last line is "test-river: N passed, M failed"; the exit code is 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import river
from river import anomaly, drift, linear_model, metrics, optim, preprocessing, stream

RIVER_VERSION = "0.26.1"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CREDITCARD = os.path.join(REPO, "datasets", "creditcard", "creditcard_head4002.csv")
ORACLE = os.path.join(REPO, "tests", "data", "oracle")


@dataclass
class Config:
    index: int
    stream: str  # "gen:SEED" or "creditcard"
    rows: int
    model: str  # both | hst | logreg
    exclude_time: bool
    hst_trees: int
    hst_height: int
    hst_window: int
    seed: int
    lr_scaler: str  # standard | minmax
    lr_learning_rate: float
    lr_intercept_lr: float
    lr_l2: float
    lr_clip_gradient: float
    lr_positive_weight: float
    lr_negative_weight: float
    label_delay: int  # events; ignored when label_delay_seconds is set
    label_delay_seconds: float | None
    metric_window: int
    truncations: list[int] = field(default_factory=list)

    def sluice_args(self) -> list[str]:
        args = [
            "--model", self.model,
            "--hst-trees", str(self.hst_trees), "--hst-height", str(self.hst_height),
            "--hst-window", str(self.hst_window), "--seed", str(self.seed),
            "--lr-scaler", self.lr_scaler,
            "--lr-learning-rate", repr(self.lr_learning_rate),
            "--lr-intercept-lr", repr(self.lr_intercept_lr),
            "--lr-l2", repr(self.lr_l2),
            "--lr-clip-gradient", repr(self.lr_clip_gradient),
            "--lr-positive-weight", repr(self.lr_positive_weight),
            "--lr-negative-weight", repr(self.lr_negative_weight),
            "--metric-window", str(self.metric_window),
        ]
        if self.label_delay_seconds is not None:
            args += ["--label-delay-seconds", repr(self.label_delay_seconds)]
        else:
            args += ["--label-delay", str(self.label_delay)]
        if self.exclude_time:
            args += ["--exclude", "Time"]
        return args

    def river_text(self) -> str:
        scaler = "StandardScaler" if self.lr_scaler == "standard" else "MinMaxScaler"
        if self.label_delay_seconds is not None:
            qa = f"simulate_qa(moment='Time', delay={self.label_delay_seconds!r})"
        elif self.label_delay > 0:
            qa = f"simulate_qa(moment=None, delay={self.label_delay})"
        else:
            qa = "simulate_qa(moment=None, delay=None)"
        parts = []
        if self.model in ("both", "hst"):
            parts.append(
                f"MinMaxScaler() | HalfSpaceTrees(n_trees={self.hst_trees}, "
                f"height={self.hst_height}, window_size={self.hst_window}, seed={self.seed})")
        if self.model in ("both", "logreg"):
            parts.append(
                f"{scaler}() | LogisticRegression(optimizer=SGD({self.lr_learning_rate!r}), "
                f"loss=Log(weight_pos={self.lr_positive_weight!r}, "
                f"weight_neg={self.lr_negative_weight!r}), l2={self.lr_l2!r}, "
                f"intercept_lr={self.lr_intercept_lr!r}, clip_gradient={self.lr_clip_gradient!r})")
        return (f"{' ; '.join(parts)} ; {qa} ; ROCAUC(), RollingROCAUC({self.metric_window})"
                f"{' ; features without Time' if self.exclude_time else ''}")


def pick(rng: random.Random, weighted: list[tuple]):
    """One of the values, drawn with the given weights."""
    return rng.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]


def make_configs(long: bool) -> list[Config]:
    """The fixed, seeded list of configurations (the same on every run)."""
    rng = random.Random(20260821 if not long else 1_000_003)
    count = 40 if not long else 60
    configs = []
    for index in range(count):
        creditcard = index % 4 == 3
        if long:
            rows = rng.randint(2000, 4002 if creditcard else 8000)
            trees, height = rng.randint(1, 25), rng.randint(1, 15)
            if trees * (2 ** height) > 2 ** 14:  # Keep River's tree build short.
                height = rng.randint(1, 9)
        else:
            rows = rng.randint(300, 2000)
            trees, height = rng.randint(1, 8), rng.randint(1, 10)
            if trees * (2 ** height) > 2 ** 11:
                height = rng.randint(1, 6)
        window = pick(rng, [(1, 1), (2, 1), (rng.randint(3, 60), 2),
                            (rng.randint(3, max(3, rows // 3)), 3), (250, 2)])
        seed = rng.choice([0, 42, rng.randrange(2**31), rng.randrange(2**64)])
        delay_kind = rng.choice(["none", "events", "events", "seconds", "seconds"])
        label_delay, label_delay_seconds = 0, None
        if delay_kind == "events":
            label_delay = rng.choice([1, rng.randint(2, 50), rng.randint(2, rows)])
        elif delay_kind == "seconds":
            label_delay_seconds = rng.choice(
                [0.0, 1.0, float(rng.randint(2, 300)), round(rng.uniform(0, 120), 3)])

        def maybe(default, draw):
            return default if rng.random() < 0.4 else draw()

        configs.append(Config(
            index=index,
            stream="creditcard" if creditcard else f"gen:{rng.randint(1, 10**6)}",
            rows=rows,
            model=rng.choice(["both"] * 6 + ["hst", "logreg"]),
            exclude_time=rng.random() < 0.5,
            hst_trees=trees, hst_height=height, hst_window=window, seed=seed,
            lr_scaler=rng.choice(["standard", "minmax"]),
            lr_learning_rate=maybe(0.01, lambda: rng.choice([0.1, 0.5, rng.uniform(1e-4, 1.0)])),
            lr_intercept_lr=maybe(0.01, lambda: rng.choice([0.0, 0.1, rng.uniform(0, 1.0)])),
            lr_l2=maybe(0.0, lambda: rng.choice([0.001, rng.uniform(0, 0.5)])),
            lr_clip_gradient=maybe(1e12, lambda: rng.choice([0.01, rng.uniform(0.001, 2.0)])),
            lr_positive_weight=maybe(1.0, lambda: rng.choice([10.0, rng.uniform(0.1, 50)])),
            lr_negative_weight=maybe(1.0, lambda: rng.choice([0.5, rng.uniform(0.1, 5)])),
            label_delay=label_delay, label_delay_seconds=label_delay_seconds,
            metric_window=pick(rng, [(1, 1), (2, 1), (rng.randint(3, 100), 3),
                                     (rng.randint(100, 3000), 3), (1000, 2)]),
            truncations=sorted({rng.randint(1, rows - 1), rng.randint(1, rows - 1)}),
        ))
    return configs


# ---- River --------------------------------------------------------------------------------------

def read_stream(path: str, rows: int) -> list[tuple[dict, int]]:
    """The first `rows` rows, typed as river.datasets.CreditCard types them."""
    with open(path, newline="") as f:
        header = next(csv.reader(f))
    converters = {name: float for name in header if name != "Class"}
    converters["Class"] = int
    out = []
    for x, y in stream.iter_csv(path, target="Class", converters=converters):
        if len(out) == rows:
            break
        out.append((x, y))
    return out


def simulate(cfg: Config, data: list[tuple[dict, int]]):
    if cfg.label_delay_seconds is not None:
        return stream.simulate_qa(iter(data), moment="Time", delay=cfg.label_delay_seconds)
    return stream.simulate_qa(iter(data), moment=None,
                              delay=cfg.label_delay if cfg.label_delay > 0 else None)


def river_scores(cfg: Config, data: list[tuple[dict, int]]):
    """Per-event anomaly scores and fraud probabilities (None for a model that is off)."""
    def features(x):
        return {k: v for k, v in x.items() if k != "Time"} if cfg.exclude_time else x

    hst = lr = None
    if cfg.model in ("both", "hst"):
        pipe = preprocessing.MinMaxScaler() | anomaly.HalfSpaceTrees(
            n_trees=cfg.hst_trees, height=cfg.hst_height, window_size=cfg.hst_window,
            seed=cfg.seed)
        hst = []
        for x, _ in data:
            x = features(x)
            hst.append(pipe.score_one(x))
            pipe.learn_one(x)
    if cfg.model in ("both", "logreg"):
        scaler = (preprocessing.StandardScaler if cfg.lr_scaler == "standard"
                  else preprocessing.MinMaxScaler)
        pipe = scaler() | linear_model.LogisticRegression(
            optimizer=optim.SGD(cfg.lr_learning_rate),
            loss=optim.losses.Log(weight_pos=cfg.lr_positive_weight,
                                  weight_neg=cfg.lr_negative_weight),
            l2=cfg.lr_l2, intercept_lr=cfg.lr_intercept_lr, clip_gradient=cfg.lr_clip_gradient)
        lr = [None] * len(data)
        for i, x, y in simulate(cfg, data):
            if y is None:
                lr[i] = pipe.predict_proba_one(features(x))[True]
            else:
                pipe.learn_one(features(x), y)
    return hst, lr


def river_metrics(cfg: Config, data, scores) -> tuple[float, float]:
    """ROCAUC() and RollingROCAUC(W) fed (label, score) in the order simulate_qa reveals labels."""
    rocauc, rolling = metrics.ROCAUC(), metrics.RollingROCAUC(window_size=cfg.metric_window)
    for i, _, y in simulate(cfg, data):
        if y is not None:
            rocauc.update(y, scores[i])
            rolling.update(y, scores[i])
    return float(rocauc.get()), float(rolling.get())  # ROCAUC gives a numpy float64.


def river_drifts(cfg: Config, data, hst, lr) -> dict[str, list[int]]:
    """drift.ADWIN() (River's defaults) on the anomaly scores in event order and on the fraud
    model's |label - probability| in the order simulate_qa reveals the labels (a NaN probability
    is skipped but counts as a label): per signal, the indices of the updates that detected."""
    found = {}
    if hst is not None:
        adwin = drift.ADWIN()
        found["anomaly_score"] = []
        for i, score in enumerate(hst):
            adwin.update(score)
            if adwin.drift_detected:
                found["anomaly_score"].append(i)
    if lr is not None:
        adwin = drift.ADWIN()
        found["fraud_error"] = []
        k = 0
        for i, _, y in simulate(cfg, data):
            if y is None:
                continue
            if not math.isnan(lr[i]):
                adwin.update(abs(y - lr[i]))
                if adwin.drift_detected:
                    found["fraud_error"].append(k)
            k += 1
    return found


# ---- sluice -------------------------------------------------------------------------------------

def run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} exited {result.returncode}: {result.stderr}")


def sluice_replay(sluice: str, cfg: Config, input_path: str, rows: int, workdir: str):
    predictions = os.path.join(workdir, "predictions.csv")
    summary = os.path.join(workdir, "summary.json")
    command = [sluice, "replay", "--quiet", "--input", input_path, "--rows", str(rows),
               "--predictions", predictions, "--summary", summary] + cfg.sluice_args()
    run(command)
    with open(predictions, newline="") as f:
        table = list(csv.DictReader(f))
    with open(summary) as f:
        summary_json = json.load(f, parse_float=str, parse_int=str)  # float() them later.
    return table, summary_json


# ---- comparison ---------------------------------------------------------------------------------

class Mismatch(Exception):
    pass


def same(sluice_text, river_value) -> bool:
    """sluice's value (its shortest round-trip text; empty or null for NaN) equals River's: ==,
    or both NaN (River's own NaN is an output like any other, and NaN != NaN)."""
    value = math.nan if sluice_text in ("", None) else float(sluice_text)
    if isinstance(river_value, float) and math.isnan(river_value):
        return math.isnan(value)
    return value == river_value


def compare_series(what: str, sluice_values: list[str], river_values: list) -> None:
    if len(sluice_values) != len(river_values):
        raise Mismatch(f"{what}: sluice wrote {len(sluice_values)} values, River "
                       f"{len(river_values)}")
    differing = [i for i, (s, r) in enumerate(zip(sluice_values, river_values)) if not same(s, r)]
    if differing:
        i = differing[0]
        raise Mismatch(f"{what}: {len(differing)} of {len(river_values)} events differ, the "
                       f"first at event {i} (0-based): sluice {sluice_values[i]!r}, River "
                       f"{river_values[i]!r}; the last at event {differing[-1]}")


def compare_value(what: str, sluice_value, river_value) -> None:
    if not same(sluice_value, river_value):
        raise Mismatch(f"{what}: sluice {sluice_value!r}, River {river_value!r}")


def check_config(sluice: str, cfg: Config, workdir: str, cache: dict) -> None:
    if cfg.stream == "creditcard":
        input_path = CREDITCARD
    else:
        input_path = os.path.join(workdir, f"gen-{cfg.index}.csv")
        run([sluice, "gen", "--seed", cfg.stream.split(":")[1], "--rows", str(cfg.rows),
             "--out", input_path])
    key = (input_path, cfg.rows)
    if key not in cache:
        cache.clear()  # Only the creditcard stream repeats.
        cache[key] = read_stream(input_path, cfg.rows)
    data = cache[key]
    if len(data) != cfg.rows:
        raise Mismatch(f"River read {len(data)} rows, wanted {cfg.rows}")
    hst, lr = river_scores(cfg, data)
    models = [(name, column, values) for name, column, values in
              (("anomaly", "anomaly_score", hst), ("fraud", "fraud_probability", lr))
              if values is not None]
    errors = []

    def check(fn, *args):
        try:
            fn(*args)
        except Mismatch as e:
            errors.append(str(e))

    for rows in [cfg.rows] + cfg.truncations:
        table, summary = sluice_replay(sluice, cfg, input_path, rows, workdir)
        for name, column, values in models:
            where = f"--rows {rows}: {name}"
            check(compare_series, f"{where} {column}", [row[column] for row in table],
                  values[:rows])
            sluice_metrics = (summary[name]["river_rocauc"], summary[name]["river_rolling_rocauc"])
            before = len(errors)
            for metric, sluice_value, river_value in zip(
                    ("river_rocauc", "river_rolling_rocauc"), sluice_metrics,
                    river_metrics(cfg, data[:rows], values)):
                check(compare_value, f"{where} {metric}", sluice_value, river_value)
            if len(errors) > before:
                # Tell a metric bug from different scores: River's metrics fed sluice's scores.
                own = river_metrics(cfg, data[:rows], [
                    math.nan if row[column] == "" else float(row[column]) for row in table])
                agree = all(same(s, r) for s, r in zip(sluice_metrics, own))
                errors.append(f"{where}: River's metrics fed sluice's own scores give "
                              f"{own[0]!r}, {own[1]!r}: "
                              f"{'equal to' if agree else 'DIFFERENT from'} sluice's metrics")
            check(compare_value, f"{where} labels", summary[name]["labels"], rows)
        want = river_drifts(cfg, data[:rows], hst and hst[:rows], lr and lr[:rows])
        for signal, indices in want.items():
            got = [int(d["index"]) for d in summary["drifts"]["found"] if d["signal"] == signal]
            if got != indices:
                errors.append(f"--rows {rows}: ADWIN on {signal}: sluice detected at {got}, "
                              f"River at {indices}")
    if errors:
        raise Mismatch("\n        ".join(errors))


def check_oracle(sluice: str, workdir: str, long: bool) -> list[tuple[str, str | None]]:
    """River 0.26.1 against the checked-in reference outputs (tests/data/oracle): a list of
    (what, None if equal else the mismatch)."""
    input_path = os.path.join(workdir, "oracle-input.csv")
    run([sluice, "gen", "--seed", "1", "--rows", "20000", "--out", input_path])
    data = read_stream(input_path, 20000)
    tables = {}
    for name in ("lr_probs_seed1.csv", "hst_scores_seed1.csv"):
        with open(os.path.join(ORACLE, name), newline="") as f:
            rows = list(csv.DictReader(f))
        tables[name] = {column: [row[column] for row in rows] for column in rows[0]}
    base = dict(index=-1, stream="gen:1", rows=20000, model="logreg", exclude_time=False,
                hst_trees=25, hst_height=15, hst_window=250, seed=42, lr_scaler="standard",
                lr_learning_rate=0.01, lr_intercept_lr=0.01, lr_l2=0.0, lr_clip_gradient=1e12,
                lr_positive_weight=1.0, lr_negative_weight=1.0, label_delay=0,
                label_delay_seconds=None, metric_window=1000)
    results = []

    def check(what, fn):
        try:
            fn()
            results.append((what, None))
        except Mismatch as e:
            results.append((what, str(e)))

    def metric_columns(cfg, rows, scores, table, suffix):
        """The oracle's running ROCAUC and RollingROCAUC(1000) after each label (sampled unless
        long: RollingROCAUC.get is O(W))."""
        rocauc, rolling = metrics.ROCAUC(), metrics.RollingROCAUC(window_size=1000)
        step = 1 if long else 97
        answered = 0
        for i, _, y in simulate(cfg, data[:rows]):
            if y is None:
                continue
            rocauc.update(y, scores[i])
            rolling.update(y, scores[i])
            answered += 1
            if answered % step == 0 or answered == rows:
                j = answered - 1  # A constant delay reveals labels in event order.
                compare_value(f"rocauc_{suffix} after label {j}", table[f"rocauc_{suffix}"][j],
                              rocauc.get())
                compare_value(f"rolling_rocauc_{suffix} after label {j}",
                              table[f"rolling_rocauc_{suffix}"][j], rolling.get())

    lr_table = tables["lr_probs_seed1.csv"]
    for delay, suffix in ((0, "immediate"), (500, "delay500")):
        cfg = Config(**{**base, "label_delay": delay})
        _, probs = river_scores(cfg, data)
        check(f"StandardScaler | LogisticRegression() p_{suffix}, 20000 events",
              lambda: compare_series(f"p_{suffix}", lr_table[f"p_{suffix}"], probs))
        check(f"ROCAUC(), RollingROCAUC(1000) of p_{suffix}",
              lambda: metric_columns(cfg, 20000, probs, lr_table, suffix))
    if not long:
        return results  # River builds each HST(25, 15) in ~10 s of CPU: only in --long.
    hst_table = tables["hst_scores_seed1.csv"]
    for exclude_time, suffix in ((False, "with_time"), (True, "no_time")):
        cfg = Config(**{**base, "model": "hst", "exclude_time": exclude_time})
        scores, _ = river_scores(cfg, data)
        check(f"MinMaxScaler | HalfSpaceTrees(25, 15, 250, seed=42) score_{suffix}",
              lambda: compare_series(f"score_{suffix}", hst_table[f"score_{suffix}"], scores))
        check(f"ROCAUC(), RollingROCAUC(1000) of score_{suffix}",
              lambda: metric_columns(cfg, 20000, scores, hst_table, suffix))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sluice", default=os.environ.get("SLUICE_BINARY", "build/tools/sluice"))
    parser.add_argument("--long", action="store_true", help="many more configs, longer streams")
    parser.add_argument("--only", type=int, action="append", help="run only config K (repeatable)")
    parser.add_argument("--no-oracle", action="store_true", help="skip the tests/data/oracle check")
    parser.add_argument("--keep", help="keep the streams and outputs in this directory")
    args = parser.parse_args()
    if river.__version__ != RIVER_VERSION:
        print(f"test-river: River {river.__version__} found, {RIVER_VERSION} needed "
              "(use the python scripts/river-venv.sh prints)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # Still remove the files.
    sluice = os.path.abspath(args.sluice)
    configs = make_configs(args.long)
    if args.only:
        configs = [c for c in configs if c.index in args.only]
    workdir = args.keep or tempfile.mkdtemp(prefix="sluice-river-")
    os.makedirs(workdir, exist_ok=True)
    print(f"test-river: sluice {sluice} vs River {river.__version__}, {len(configs)} configs"
          f"{' (long)' if args.long else ''}, files in {workdir}")
    passed, failures, cache = 0, [], {}
    start = time.monotonic()
    try:
        for cfg in configs:
            t0 = time.monotonic()
            label = (f"config {cfg.index:2d} ({cfg.stream}, {cfg.rows} rows, {cfg.model}, "
                     f"hst {cfg.hst_trees}x{cfg.hst_height} w{cfg.hst_window})")
            try:
                check_config(sluice, cfg, workdir, cache)
                passed += 1
                print(f"  ok    {label}  {time.monotonic() - t0:.1f} s")
            except (Mismatch, RuntimeError) as e:
                input_path = CREDITCARD if cfg.stream == "creditcard" else (
                    f"<(sluice gen --seed {cfg.stream.split(':')[1]} --rows {cfg.rows})")
                failures.append(f"config {cfg.index}: {e}")
                print(f"  FAIL  {label}\n"
                      f"        sluice replay --input {input_path} {shlex.join(cfg.sluice_args())}\n"
                      f"        River: {cfg.river_text()}\n"
                      f"        {e}")
        if not args.no_oracle and not args.only:
            t0 = time.monotonic()
            results = check_oracle(sluice, workdir, args.long)
            for what, error in results:
                if error is None:
                    passed += 1
                    print(f"  ok    River vs tests/data/oracle: {what}")
                else:
                    failures.append(f"River vs tests/data/oracle: {what}: {error}")
                    print(f"  FAIL  River vs tests/data/oracle: {what}\n        {error}")
            print(f"        (oracle checks: {time.monotonic() - t0:.1f} s)")
    finally:
        if not args.keep:
            shutil.rmtree(workdir)
    print(f"test-river: {time.monotonic() - start:.0f} s")
    for failure in failures:
        print(f"  FAILED {failure}")
    print(f"test-river: {passed} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
