"""The encoder classes, by key (a literal dict: searchable, no registry magic), and so the modalities.

A model spec names its modality and, where a modality has several encoders, which one
(`"encoder"`, one of the keys below; by default the modality's own name, so `"text"` is fastText).
"""

from models.audio import AudioEncoder
from models.base import Encoder
from models.metadata import MetadataEncoder
from models.motion import MotionEncoder
from models.poster import PosterEncoder
from models.text import TextEncoder
from models.text_linear import LinearTextEncoder
from models.text_minilm import SentenceTextEncoder
from models.video import VideoEncoder

ENCODER_CLASSES: dict[str, type[Encoder]] = {
    "video": VideoEncoder,
    "motion": MotionEncoder,
    "audio": AudioEncoder,
    "poster": PosterEncoder,
    "text": TextEncoder,  # fastText, the paper's text model
    "text_linear": LinearTextEncoder,
    "text_minilm": SentenceTextEncoder,
    "metadata": MetadataEncoder,
}


def modalities() -> tuple[str, ...]:
    """The modalities, in the order of the table: a new encoder class in it brings its own."""
    return tuple(dict.fromkeys(cls.modality for cls in ENCODER_CLASSES.values()))


def encoder_class(spec: dict) -> type[Encoder]:
    """The class of a model spec as stored in a manifest: {"modality": ..., "encoder": ...}."""
    return ENCODER_CLASSES[spec.get("encoder") or spec["modality"]]
