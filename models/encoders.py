"""The five modality encoders, by modality name (a literal dict: searchable, no registry magic)."""

from models.audio import AudioEncoder
from models.base import Encoder
from models.metadata import MetadataEncoder
from models.poster import PosterEncoder
from models.text import TextEncoder
from models.video import VideoEncoder

ENCODER_CLASSES: dict[str, type[Encoder]] = {
    "video": VideoEncoder,
    "audio": AudioEncoder,
    "poster": PosterEncoder,
    "text": TextEncoder,
    "metadata": MetadataEncoder,
}
MODALITIES = tuple(ENCODER_CLASSES)
