"""`POST /v1/explain` and `moviescope predict --explain`: a prediction, and why the service gave it.

The prediction takes the Predictor's own steps (decode, score, fuse: the same numbers as
/v1/predict). Then the fusion explains each genre's modality shares and each present modality's
encoder explains its decoded input (`Encoder.explain`, in the modality's own file); this module
only assembles them. Grad-CAM needs gradients, so the explanations run outside the inference mode
the scoring uses.
"""

import base64
import json
import re
from pathlib import Path

import numpy as np

from models.base import Encoder
from models.bundle import Bundle
from models.files import write_bytes_atomic
from models.genres import UnknownGenreError
from service.predictor import Predictor, _timed, cli_bundle

DEFAULT_TOP = 3  # without `genres`, the genres with the highest fused scores are explained


def parse_genres(predictor: Predictor, text: str | None) -> list[str] | None:
    """Comma-separated names of the model's genres (any case), in the order given; None when empty.
    UnknownGenreError (a 422) names the model's genres."""
    try:
        return predictor.artifacts.genres.parse(text)
    except UnknownGenreError as err:
        raise UnknownGenreError(f"genres: {err}") from None


def explain(predictor: Predictor, bundle: Bundle, genres: list[str] | None = None) -> dict:
    """Everything `Predictor.predict` answers, plus `explanation` for `genres` (default: the top 3)."""
    timings: dict[str, float] = {}
    label_set = predictor.artifacts.genres
    with _timed(timings, "total"):
        scored = predictor.scored(bundle, timings)
        chosen = genres or [label_set[j] for j in np.argsort(-scored.fused, kind="stable")[:DEFAULT_TOP]]
        explanation = {"genres": chosen, "fusion": predictor.artifacts.fusion.explain(scored.fused_scores, chosen)}
        for modality, encoder in predictor.artifacts.encoders.items():
            if modality in scored.scores and type(encoder).explain is not Encoder.explain:  # else: no part for it
                with _timed(timings, f"explain_{modality}"):
                    raw = scored.decoded.get(modality) if encoder.reads_file else encoder.load_input(scored.bundle)
                    explanation[modality] = encoder.explain(raw, chosen)
    return {**predictor.response(scored, timings), "explanation": explanation}


def explain_cli(args) -> None:
    """`moviescope predict --explain --out DIR`: DIR/explanation.json, and each heatmap as two PNG files
    (named in the JSON by `overlay_file` and `mask_file` instead of the base64 strings)."""
    from models.device import resolve_device

    bundle = cli_bundle(args)
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out: {args.out} exists and is not a directory")
    predictor = Predictor.from_dir(args.artifacts, device=resolve_device(args.device), warm_up=False)
    result = explain(predictor, bundle, parse_genres(predictor, args.genres))
    args.out.mkdir(parents=True, exist_ok=True)
    write_images(result["explanation"], args.out)
    text = json.dumps(result, indent=2)
    write_bytes_atomic(args.out / "explanation.json", (text + "\n").encode("utf-8"))
    print(text)


def write_images(explanation: dict, out: Path) -> None:
    """Write each heatmap's PNGs into `out`, replacing the base64 strings by the files' names."""
    for part, content in explanation.items():
        heatmaps = content.get("heatmaps", []) if isinstance(content, dict) else []
        for k, entry in enumerate(heatmaps):
            stem = f"{part}-{k + 1:02d}-{re.sub(r'[^a-z]+', '', entry['genre'].lower())}"
            for kind in ("overlay", "mask"):
                name = f"{stem}-{kind}.png"
                write_bytes_atomic(out / name, base64.b64decode(entry.pop(f"{kind}_png")))
                entry[f"{kind}_file"] = name
