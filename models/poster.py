"""Poster: a frozen ImageNet CNN and a multi-label MLP head.

Features (cached): the poster squashed to an `image_size` square, the backbone's globally
pooled features (models.backbones: EfficientNet-Lite0 by default, VGG16 in the paper profile;
`vgg_fc7` gives VGG16's 4096-d fc7), plus, with `image_stats`, the same low-level colour /
brightness / edge descriptors as video frames. They are off by default: they describe the whole
poster, so any greyed fifth moves them alike, and with them the poster's Grad-CAM (which sees the
CNN only) stopped predicting what greying does (1,000 synthetic movies: deletion test 58% with
them, 76% without, for 2-3 points of mAP). Head: standardise (training-set statistics,
kept as buffers), MLP -> 13 logits, BCE, early stopping on validation micro-AP.
"""

import numpy as np
import torch
from PIL import Image
from torch import nn

from models.bundle import Bundle
from models.decode import Decode
from models.gradcam import display_size, heatmap
from models.image import image_stats as low_level_stats  # the parameter `image_stats` switches them on
from models.image import load_image
from models.image_encoder import ImageEncoder
from models.torch_fit import Standardise


class PosterHead(nn.Module):
    def __init__(self, dim: int, hidden: int, dropout: float, n_genres: int):
        super().__init__()
        self.norm = Standardise(dim)
        self.mlp = nn.Sequential(nn.Dropout(dropout), nn.Linear(dim, hidden), nn.ReLU(),
                                 nn.Dropout(dropout), nn.Linear(hidden, n_genres))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, dim) -> (batch, n_genres) logits
        return self.mlp(self.norm(x))


class PosterEncoder(ImageEncoder):
    modality = "poster"
    source = "poster"
    preprocessing_params = ("backbone", "weights_path", "vgg_fc7", "image_size", "image_stats")
    typicality_input = "poster"
    typicality_describes = "the poster's features (those the head reads)"

    def __init__(self, backbone: str = "efficientnet_lite0", weights_path: str | None = None, vgg_fc7: bool = False,
                 image_size: int = 224, image_stats: bool = False, hidden: int = 256, dropout: float = 0.3,
                 lr: float = 1e-3, weight_decay: float = 1e-4, epochs: int = 80, patience: int = 15,
                 batch_size: int = 32, seed: int = 0):
        self._store(backbone=backbone, weights_path=weights_path, vgg_fc7=vgg_fc7, image_size=image_size,
                    image_stats=image_stats, hidden=hidden, dropout=dropout, lr=lr, weight_decay=weight_decay,
                    epochs=epochs, patience=patience, batch_size=batch_size, seed=seed)

    def load_input(self, bundle: Bundle, decode: Decode | None = None) -> Image.Image:
        """The RGB poster at its own size (squashed in `embed`: explanations keep its size); raises
        models.media.UnsupportedMediaError / InvalidMediaError."""
        return load_image(bundle.poster, (decode or Decode()).max_image_pixels)

    def pixels(self, image: Image.Image) -> torch.Tensor:
        """(1, image_size, image_size, 3) uint8: the poster squashed to the model's square."""
        square = image.resize((self.image_size, self.image_size))
        return torch.tensor(np.array(square, dtype=np.uint8))[None]

    def embed(self, image: Image.Image) -> np.ndarray:
        """(dim,) float16: backbone features, then image statistics."""
        return self.pixel_features(self.pixels(image))[0].numpy().astype(np.float16)

    def extra_features(self, pixels: torch.Tensor) -> list[torch.Tensor]:
        return [low_level_stats(pixels)] if self.image_stats else []

    def head_batch(self, features: torch.Tensor) -> torch.Tensor:
        return features

    def typicality_vector(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(features, dtype=np.float32)

    def explain(self, image: Image.Image, genres: list[str]) -> dict:
        """Grad-CAM of each genre's logit over the poster: masks at the poster's own size."""
        _, _, cams = self.explain_pass(self.pixels(image), genres)
        size = display_size(image.size)
        return {"width": image.width, "height": image.height,
                "heatmaps": [{"genre": g, **heatmap(image, cams[g][0], size)} for g in genres]}

    def new_head(self, dim: int) -> PosterHead:
        return PosterHead(dim, self.hidden, self.dropout, len(self.genres_))
