"""River 0.26.1's events/s on what `sluice replay --label-delay D` does with both models:
MinMaxScaler | HalfSpaceTrees() scores and learns every event, StandardScaler |
LogisticRegression() predicts it and learns it when simulate_qa reveals its label, and each label
updates ROCAUC() and RollingROCAUC(1000) of both. Includes reading the CSV, as sluice's loop does.
Usage: python bench-river.py FILE ROWS DELAY (python of scripts/river-venv.sh); prints events/s."""
import itertools
import sys
import time

from river import anomaly, linear_model, metrics, preprocessing, stream

path, rows, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path) as f:
    header = f.readline().strip().split(",")
converters = {name: float for name in header}
converters["Class"] = int
hst = preprocessing.MinMaxScaler() | anomaly.HalfSpaceTrees(seed=42)
lr = preprocessing.StandardScaler() | linear_model.LogisticRegression()
meters = [(metrics.ROCAUC(), metrics.RollingROCAUC(1000)) for _ in range(2)]
scores = {}
start = time.perf_counter()
dataset = itertools.islice(stream.iter_csv(path, target="Class", converters=converters), rows)
for i, x, y in stream.simulate_qa(dataset, moment=None, delay=delay or None):
    if y is None:
        scores[i] = (hst.score_one(x), lr.predict_proba_one(x)[True])
        hst.learn_one(x)
    else:
        for score, (rocauc, rolling) in zip(scores.pop(i), meters):
            rocauc.update(y, score)
            rolling.update(y, score)
        lr.learn_one(x, y)
for rocauc, rolling in meters:
    rolling.get()
print(f"{rows / (time.perf_counter() - start):.0f}")
