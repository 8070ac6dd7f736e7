"""models.device: "auto" follows what torch sees; "cuda" without a GPU is an error, not a silent CPU run."""

import pytest
import torch

from models.device import resolve_device


@pytest.mark.parametrize(("visible", "expected"), [(False, "cpu"), (True, "cuda")])
def test_auto_picks_the_gpu_only_when_one_is_visible(monkeypatch, visible, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: visible)
    assert resolve_device("auto") == expected
    assert resolve_device("cpu") == "cpu"


def test_cuda_without_a_gpu_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        resolve_device("cuda")
