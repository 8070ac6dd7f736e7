"""What the frame (video) and poster encoders share: a frozen CNN backbone, optional low-level
image statistics, and a torch head trained on the cached features.

A subclass decodes its input (`load_input`), turns pixels into features (`embed`, using
`pixel_features`: the CNN's features, then its `extra_features`, e.g. models.image.image_stats),
builds its head and says how features form one input of the head (models.head_encoder). The
backbone and the Grad-CAM pass of explanations (`explain_pass`) are shared here.
"""

import torch

from models import gradcam
from models.backbones import Backbone, load_backbone
from models.head_encoder import HeadEncoder
from models.image import FEATURES_VERSION


class ImageEncoder(HeadEncoder):
    _backbone: Backbone | None = None

    # ---- features
    def extractor(self) -> Backbone:
        """The frozen backbone, loaded on first use only (fitting on cached features never needs it)."""
        if self._backbone is None:
            self._backbone = load_backbone(self.backbone, self.weights_path, vgg_fc7=self.vgg_fc7)
        return self._backbone

    def cnn_features(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 (n, h, w, 3) -> float32 (n, dim) on the CPU, in one forward pass."""
        backbone = self.extractor()
        module = backbone.module.to(self.device)
        with torch.inference_mode():
            return module(backbone.normalise(pixels.to(self.device))).float().cpu()

    def extra_features(self, pixels: torch.Tensor) -> list[torch.Tensor]:
        """Cheap per-image descriptors appended to the CNN features, each (n, k) float."""
        return []

    def pixel_features(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 (n, h, w, 3) -> float32 (n, dim): the CNN's features, then the extra ones."""
        return torch.cat([self.cnn_features(pixels), *self.extra_features(pixels)], dim=1)

    def explain_pass(self, pixels: torch.Tensor, genres: list[str]):
        """One forward pass that keeps what Grad-CAM needs.

        Returns the features as `embed` gives them ((n, dim) float32, rounded through float16), the
        head's (n_genres,) logits, and per genre each image's Grad-CAM map (n, h', w') in [0, 1]: how the
        CNN part of the features moves that genre's logit.
        """
        with torch.inference_mode(False), torch.enable_grad():
            maps, cnn = gradcam.activations(self.extractor(), pixels, self.device)
            extra = [part.to(self.device) for part in self.extra_features(pixels)]
            features = torch.cat([cnn, *extra], dim=1).half().float()
            with torch.backends.cudnn.flags(enabled=False):  # cuDNN's LSTM has no backward in eval mode
                logits = self.head_(self.head_batch(features))[0]
                cams = {g: gradcam.grad_cam(maps, logits[self.genres_.index(g)]) for g in genres}
        return features.detach(), logits.detach().float().cpu(), cams

    def feature_identity(self) -> dict:
        return {"backbone": self.extractor().describe(), "features_version": FEATURES_VERSION}
