"""Which torch device a job or the service runs on ("auto", "cpu" or "cuda"), and who may use it."""

import threading

import torch

# One forward pass at a time in a process: torch already spreads one over every core, so batch jobs
# take this around their forward passes, and their threads overlap one batch's decoding (ffmpeg
# children) with another's forward passes rather than run two passes at once.
COMPUTE = threading.Lock()


def resolve_device(device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but no CUDA GPU is visible")
    return device
