"""Per-movie cost of the frozen CNN features (the part a GPU speeds up), for each training profile.

    python benchmarks/backbone_cost.py [--device auto] [--repeats 3] [--out FILE]

Times `embed` of the video and poster encoders (backbone forward pass plus image statistics,
features copied back to the CPU) on decoded inputs made up in memory, with each profile's
settings from training.config, on the chosen device. Decoding is not included: ffmpeg runs on
the CPU whatever the device (benchmarks/run.py measures the service end to end). Backbones
without cached ImageNet weights run with random weights, which cost the same.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: `python benchmarks/backbone_cost.py`
    sys.path.insert(0, str(ROOT))

import numpy as np
import torch
from PIL import Image

from benchmarks.machine import machine
from models.media import SampledFrames
from training.config import PROFILES, load_config

CNN_MODELS = ("video", "poster")


def main() -> None:
    args = _args()
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device.replace("auto", "cpu")
    results = {"machine": machine(), "device": device, "repeats": args.repeats, "profiles": {}}
    for profile in PROFILES:
        config = load_config(profile=profile)
        results["profiles"][profile] = {name: embed_cost(config.build(name).to(device), args.repeats)
                                        for name in CNN_MODELS}
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)


def embed_cost(encoder, repeats: int) -> dict:
    """Median ms of one movie's `embed` after a warm-up call (which loads the backbone)."""
    rng = np.random.default_rng(0)
    if encoder.modality == "video":
        shape = (encoder.n_frames, encoder.frame_size, encoder.frame_size, 3)
    else:
        shape = (encoder.image_size, encoder.image_size, 3)
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    if encoder.modality == "video":
        raw = SampledFrames(pixels, np.arange(len(pixels), dtype=float), (encoder.frame_size, encoder.frame_size))
    else:
        raw = Image.fromarray(pixels)
    encoder.embed(raw)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        features = encoder.embed(raw)  # returns a NumPy array: the device has finished
        times.append((time.perf_counter() - start) * 1000)
    backbone = encoder.extractor()
    return {"backbone": encoder.backbone, "input": list(shape), "feature_shape": list(features.shape),
            "pretrained": backbone.pretrained, "ms_median": statistics.median(times), "ms_min": min(times)}


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto (CUDA when visible), cpu or cuda")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", help="also write the JSON here")
    return parser.parse_args()


if __name__ == "__main__":
    main()
