"""In-process measurements on one bundle: the floor, and the authors' pipeline style.

floor: the irreducible work with the same trained model: decode just what serving decodes (the
sampled frames, the soundtrack up to the audio model's decode length), and one forward pass of
each model on already-decoded inputs.

authors' style (their public code): ffmpeg writes frames at 1 fps to JPEG files, the files
are read back and each frame goes through the CNN one at a time; the soundtrack is decoded
with librosa from the file. The other modalities are scored as we do.
"""

import subprocess
import tempfile
import time
from pathlib import Path

import librosa
import numpy as np
import torch
from PIL import Image

from models.artifacts import Artifacts
from models.bundle import Bundle
from models.decode import Decode


def best_of(fn, repeats: int) -> float:
    """Fastest of `repeats` runs in ms (the floor should not include noise)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def floor_ms(artifacts: Artifacts, bundle: Bundle, repeats: int = 3) -> dict[str, float]:
    """The encoders' own `load_input` decodes, as serving does: the same frames, the same seconds of sound,
    the motion runs where the model has motion; then one forward pass per modality."""
    enc = artifacts.encoders
    decode = Decode()
    decode.probe(bundle.trailer)  # once, as serving does, and not timed with either decode
    decoded = {m: e.load_input(bundle, decode) for m, e in enc.items() if e.has_input(bundle)}
    parts = _trailer_decodes_ms(enc, bundle, repeats)
    parts["extract_audio"] = best_of(lambda: enc["audio"].load_input(bundle, decode), repeats)
    with torch.inference_mode():
        for modality, raw in decoded.items():
            encoder = enc[modality]
            parts[f"forward_{modality}"] = best_of(lambda e=encoder, x=raw: e.predict_features([e.embed(x)]), repeats)
    parts["total"] = sum(parts.values())
    return parts


def _trailer_decodes_ms(enc: dict, bundle: Bundle, repeats: int) -> dict[str, float]:
    """Best of `repeats` for the sampled frames and (when served) the motion runs, read as serving reads them
    (announced, so one decode serves both), each repeat on a fresh probe (not timed), so the trailer's packet
    index is read once per repeat, as once per request."""
    readers = [enc[m] for m in ("video", "motion") if m in enc]
    part = "decode_frames_and_motion" if "motion" in enc else "decode_frames"
    times = []
    for _ in range(repeats):
        decode = Decode()
        decode.probe(bundle.trailer)
        for encoder in readers:
            encoder.announce_reads(bundle, decode)
        start = time.perf_counter()
        for encoder in readers:
            encoder.load_input(bundle, decode)
        times.append((time.perf_counter() - start) * 1000)
    return {part: min(times)}


def authors_style_ms(artifacts: Artifacts, bundle: Bundle) -> dict[str, float]:
    enc = artifacts.encoders
    video = enc["video"]
    backbone = video.extractor()
    parts = {}
    with tempfile.TemporaryDirectory(prefix="moviescope-bench-") as work:
        start = time.perf_counter()
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(bundle.trailer), "-vf", "fps=1",
                        "-q:v", "2", f"{work}/frame_%05d.jpg"], check=True, timeout=600)
        parts["ffmpeg_frames_to_jpeg"] = _since(start)
        start = time.perf_counter()
        features = []
        with torch.inference_mode():
            for path in sorted(Path(work).glob("frame_*.jpg")):
                image = Image.open(path).convert("RGB").resize((video.frame_size, video.frame_size))
                pixels = torch.from_numpy(np.array(image))[None]
                features.append(backbone.module(backbone.normalise(pixels)))
        parts["cnn_frame_by_frame"] = _since(start)
        parts["n_frames"] = len(features)
    start = time.perf_counter()
    pcm, _ = librosa.load(str(bundle.trailer), sr=enc["audio"].sample_rate, mono=True)
    enc["audio"].embed(pcm)
    parts["librosa_load_and_mel"] = _since(start)
    start = time.perf_counter()
    with torch.inference_mode():
        for modality in ("poster", "text", "metadata"):
            if modality in enc and enc[modality].has_input(bundle):
                encoder = enc[modality]
                encoder.predict_features([encoder.features(bundle)])
    parts["other_modalities"] = _since(start)
    parts["total"] = sum(v for k, v in parts.items() if k != "n_frames")
    return parts


def _since(start: float) -> float:
    return (time.perf_counter() - start) * 1000
