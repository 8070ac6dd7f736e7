"""What the frames alone can tell about the genres planted only in motion: nothing of how the trailer
moves, but the genres whose looks they show, and genres co-occur (a Drama is rarely a Comedy). A frame
model that read every planted look perfectly would reach this, not the prior, on the motion genres.

Per motion genre, a logistic regression from the genres planted in the video (planted.jsonl, the oracle's
view of the frames) to the genre's label, fitted on the training split; its AP on the test split.
"""

import statistics
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score

from training.ceiling import load_planted
from training.dataset import load_dataset
from training.synth_media import MOTIONS


def frames_cooccurrence_ap(data: Path) -> float | None:
    """Mean test AP over the motion genres of the co-occurrence model (None without planted evidence)."""
    planted = load_planted(data)
    if planted is None:
        return None
    movies = load_dataset(data).movies
    genres = sorted({g for m in movies for g in m.genres})
    shown = np.array([[g in (planted[m.bundle.id].get("video") or []) for g in genres] for m in movies], dtype=float)
    split = np.array([m.split for m in movies])
    train, test = split == "train", split == "test"
    aps = []
    for genre in MOTIONS:
        label = np.array([genre in m.genres for m in movies])
        if label[train].all() or not label[train].any() or not label[test].any():
            continue
        model = LogisticRegression(max_iter=1000).fit(shown[train], label[train])
        aps.append(average_precision_score(label[test], model.predict_proba(shown[test])[:, 1]))
    return statistics.fmean(aps) if aps else None
