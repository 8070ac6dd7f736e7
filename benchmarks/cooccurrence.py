"""What the frames alone can tell about the genres planted only in motion: nothing of how the trailer
moves, but the genres whose looks they show, and genres co-occur (a Drama is rarely a Comedy). A frame
model that read every planted look perfectly would reach this, not the prior, on the motion genres.

Per motion genre, a logistic regression from the genres planted in the video (planted.jsonl, the oracle's
view of the frames) to the genre's label, fitted on the training split; its AP on the test split.
"""

import json
import statistics
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from training.ceiling import PLANTED_FILE
from training.synth_media import MOTIONS


def frames_cooccurrence_ap(data: Path) -> float | None:
    """Mean test AP over the motion genres of the co-occurrence model (None without planted evidence)."""
    rows = [json.loads(line) for line in (data / "movies.jsonl").read_text().splitlines() if line.strip()]
    if not (data / PLANTED_FILE).is_file():
        return None
    planted = {str(p["id"]): p["planted"] for p in map(json.loads, (data / PLANTED_FILE).read_text().splitlines())}
    genres = sorted({g for r in rows for g in r["genres"]})
    shown = np.array([[g in (planted[str(r["id"])].get("video") or []) for g in genres] for r in rows], dtype=float)
    split = np.array([r["split"] for r in rows])
    train, test = split == "train", split == "test"
    aps = []
    for genre in MOTIONS:
        label = np.array([genre in r["genres"] for r in rows])
        if label[train].all() or not label[train].any() or not label[test].any():
            continue
        model = LogisticRegression(max_iter=1000).fit(shown[train], label[train])
        aps.append(average_precision_score(label[test], model.predict_proba(shown[test])[:, 1]))
    return statistics.fmean(aps) if aps else None
