"""The encoder classes, by key (a literal dict: searchable, no registry magic), and so the modalities.

A model spec names its modality and, where a modality has several encoders, which one
(`"encoder"`, one of the keys below; by default the modality's own name, so `"text"` is fastText).
"""

from models.audio import AudioEncoder
from models.base import Encoder
from models.metadata import MetadataEncoder
from models.metadata_forest import MetadataForestEncoder
from models.motion import MotionEncoder
from models.poster import PosterEncoder
from models.text import TextEncoder
from models.text_glove import GloveTextEncoder
from models.text_linear import LinearTextEncoder
from models.text_minilm import SentenceTextEncoder
from models.text_nn import NeuralTextEncoder
from models.video import VideoEncoder
from models.video3d import Video3DEncoder

ENCODER_CLASSES: dict[str, type[Encoder]] = {
    "video": VideoEncoder,
    "video3d": Video3DEncoder,  # a small C3D from scratch over clips
    "motion": MotionEncoder,
    "audio": AudioEncoder,
    "poster": PosterEncoder,
    "text": TextEncoder,  # fastText, the paper's text model
    "text_glove": GloveTextEncoder,  # fastText starting from GloVe vectors
    "text_linear": LinearTextEncoder,
    "text_minilm": SentenceTextEncoder,
    "text_nn": NeuralTextEncoder,  # Conv1D, LSTM or BiLSTM from scratch
    "metadata": MetadataEncoder,
    "metadata_rf": MetadataForestEncoder,
}


def modalities() -> tuple[str, ...]:
    """The modalities, in the order of the table: a new encoder class in it brings its own."""
    return tuple(dict.fromkeys(cls.modality for cls in ENCODER_CLASSES.values()))


def encoder_class(spec: dict) -> type[Encoder]:
    """The class of a model spec as stored in a manifest: {"modality": ..., "encoder": ...}."""
    return ENCODER_CLASSES[spec.get("encoder") or spec["modality"]]
