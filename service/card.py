"""The model card's facts, read from the loaded artifact directory and nothing else.

What the manifest or the report may gain or lose between versions (backbone checksums,
ceiling rows, ...) is passed through as it is or left out, never guessed.
"""

import json
import re
from pathlib import Path
from typing import Any

from models.artifacts import Artifacts
from models.typicality import METHOD
from service.trust import TrustPolicy

REPORT_DIR = "report"
# the report's plots, served by these fixed names only (training/report.py writes them)
PLOTS = ("modality_map.png", "pr_curves.png")
# ids written by training.synth.movie_id: "syn", the seed (3 digits or more), the index (5 digits)
SYNTHETIC_ID = re.compile(r"syn(\d{3,})\d{5}")


def model_card(artifacts: Artifacts, trust: TrustPolicy | None = None) -> dict[str, Any]:
    manifest = artifacts.manifest
    report_dir = artifacts.root / REPORT_DIR
    return {
        "model_version": artifacts.version,
        "created": manifest.get("created"),
        "profile": manifest.get("profile"),
        "seed": manifest.get("seed"),
        "training_data": training_data(manifest.get("data") or {}, report_dir / "predictions.jsonl"),
        "models": serving_models(artifacts),
        "typicality": typicality(artifacts, trust or TrustPolicy.from_environment()),
        "packages": manifest.get("packages") or {},
        "report": _read_json(report_dir / "report.json"),
        "plots": [name for name in PLOTS if (report_dir / name).is_file()],
    }


def training_data(data: dict[str, Any], predictions: Path) -> dict[str, Any]:
    """The manifest's data facts, plus `synthetic`: {"seed": ...} for the synthetic benchmark, {} for other
    data that says it is synthetic, else None.

    A manifest that records the benchmark itself (`data.synthetic`) is believed; otherwise the
    ids of the evaluated movies tell, since only the generator names movies `syn<seed><index>`.
    """
    declared = data.get("synthetic")
    if isinstance(declared, dict):
        synthetic = declared
    elif declared is True:  # the dataset says it is synthetic (dataset.json), without the generator's settings
        synthetic = {}
    elif declared is False:
        synthetic = None
    else:
        seed = _synthetic_seed(predictions)
        synthetic = None if seed is None else {"seed": seed}
    return {**data, "synthetic": synthetic}


def _synthetic_seed(predictions: Path) -> int | None:
    seeds = set()
    try:
        lines = predictions.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        match = SYNTHETIC_ID.fullmatch(str(json.loads(line).get("id", ""))) if line.strip() else None
        if match is None:
            return None
        seeds.add(int(match.group(1)))
    return seeds.pop() if len(seeds) == 1 else None


def serving_models(artifacts: Artifacts) -> dict[str, dict[str, Any]]:
    """modality -> the serving model's name, parameters and, for pretrained encoders, the weights it read."""
    specs = artifacts.manifest.get("models") or {}
    out = {}
    for modality, name in artifacts.serving.items():
        spec = specs.get(name) or {}
        entry = {**spec, "name": name, "params": spec.get("params") or {}}
        features = _dict(spec.get("features"))
        if isinstance(features.get("backbone"), dict):
            entry["backbone"] = features["backbone"]
        elif features.get("sentence_model"):
            entry["backbone"] = {"name": features["sentence_model"], "pretrained": True,
                                 "weights_sha256": features.get("weights_sha256")}
        out[modality] = entry
    return out


def typicality(artifacts: Artifacts, trust: TrustPolicy) -> dict[str, Any]:
    """How the service judges inputs unlike the training data, and per modality what its serving model was
    trained on (None: a model trained before typicality existed; its inputs are not judged)."""
    modalities = {}
    for modality, encoder in artifacts.encoders.items():
        facts = encoder.typicality_
        modalities[modality] = None if facts is None else {
            "trained_on": f"{facts.n_train_} training {encoder.typicality_input}s",
            "describes": encoder.typicality_describes, **facts.describe()}
    return {"method": METHOD, "percentile": trust.percentile, "policy": trust.policy, "modalities": modalities}


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
