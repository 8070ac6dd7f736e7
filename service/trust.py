"""What an answer says about inputs unlike the model's training data (models/typicality.py judges them).

Each present modality whose model has a typicality is judged. One beyond the threshold percentile is out
of distribution: by default it is left out of the fusion (its own scores are still reported) and listed in
`untrusted_modalities` with the reason; the `keep` policy fuses it anyway and lists it all the same.

When every present modality is out of distribution and the policy leaves them out, nothing is left to fuse:
the answer gives the model's prior (each genre's share of the training movies, what it answers without any
input) and predicts no genre. The least atypical modality would be the other choice, but it is atypical
too, and a head fed inputs unlike its training data scores them arbitrarily (a real trailer got 1.0 for
three genres at once before its features were clipped); the prior is what the model knows for sure.
A model trained before typicality existed judges nothing: its typicality is reported as null, nothing is
left out, and it answers exactly as it did.
"""

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from models.base import Encoder
from models.typicality import DEFAULT_PERCENTILE, Judgement
from service.settings import Settings

Policy = Literal["exclude", "keep"]


@dataclass(frozen=True)
class TrustPolicy:
    percentile: float = DEFAULT_PERCENTILE  # an input above this percentile of in-distribution ones is flagged
    policy: Policy = "exclude"

    @classmethod
    def from_settings(cls, settings: Settings) -> "TrustPolicy":
        return cls(settings.ood_percentile, settings.ood_policy)

    @classmethod
    def from_environment(cls) -> "TrustPolicy":
        """MOVIESCOPE_OOD_PERCENTILE and MOVIESCOPE_OOD_POLICY, as the service reads them (for the CLI)."""
        return cls.from_settings(Settings())

    def judge(self, encoder: Encoder, features: Any) -> Judgement | None:
        return encoder.judge(features, self.percentile)

    def fused(self, scores: dict[str, np.ndarray], judged: dict[str, Judgement | None]) -> dict[str, np.ndarray]:
        """The scores of the modalities the fusion uses."""
        if self.policy == "keep":
            return dict(scores)
        return {m: s for m, s in scores.items() if not _flagged(judged.get(m))}


def trust_fields(scores: dict[str, np.ndarray], judged: dict[str, Judgement | None], fused: dict[str, np.ndarray],
                 encoders: dict[str, Encoder]) -> dict:
    """The answer's typicality, untrusted_modalities, known_input and input_notice."""
    untrusted = [{"modality": m, "reason": encoders[m].typicality_reason(judged[m]), "left_out": m not in fused}
                 for m in scores if _flagged(judged.get(m))]
    known = _known_input([judged.get(m) for m in scores])
    return {"typicality": {m: None if judged.get(m) is None else judged[m].as_dict() for m in scores},
            "untrusted_modalities": untrusted, "known_input": known,
            "input_notice": _notice(untrusted, fused, known)}


def _notice(untrusted: list[dict], fused: dict, known: bool | None) -> str | None:
    if not untrusted:
        return None
    names = _listed([u["modality"] for u in untrusted])
    if known is False and not fused:
        return (f"The model does not know this kind of input: {names} {_is(untrusted)} unlike anything it was "
                "trained on, so it has no basis for a judgement. The scores are its prior (each genre's share of "
                "its training movies) and no genre is predicted.")
    if known is False:
        return (f"The model does not know this kind of input: {names} {_is(untrusted)} unlike anything it was "
                "trained on. They were kept in the fusion (MOVIESCOPE_OOD_POLICY=keep): treat the scores with "
                "caution.")
    left_out = [u["modality"] for u in untrusted if u["left_out"]]
    kept = [u["modality"] for u in untrusted if not u["left_out"]]
    said = [f"{_listed(left_out)} {_is(left_out)} unlike the model's training data and left out; the genres come "
            f"from {_listed(list(fused))}." if left_out else "",
            f"{_listed(kept)} {_is(kept)} unlike the model's training data but kept in the fusion "
            "(MOVIESCOPE_OOD_POLICY=keep)." if kept else ""]
    return " ".join(s for s in said if s)


def _known_input(verdicts: list[Judgement | None]) -> bool | None:
    """False when every present modality is out of distribution, True when one is judged typical, else None
    (unknown: no present modality's model has a typicality, or only those without one are not flagged)."""
    if verdicts and all(_flagged(v) for v in verdicts):
        return False
    return True if any(v is not None and not v.out_of_distribution for v in verdicts) else None


def _flagged(judgement: Judgement | None) -> bool:
    return judgement is not None and judgement.out_of_distribution


def _is(items: list) -> str:
    return "are" if len(items) > 1 else "is"


def _listed(names: list[str]) -> str:
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
