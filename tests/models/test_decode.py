"""One Decode per bundle: the encoders that read one file share its probe, and its refusal."""

import pytest

from models import decode as decode_module
from models.audio import AudioEncoder
from models.bundle import Bundle
from models.decode import Decode
from models.media import UnsupportedMediaError
from models.video import VideoEncoder


def counting_probe(monkeypatch) -> list:
    calls = []
    real = decode_module.probe

    def probe(path, limits):
        calls.append(path)
        return real(path, limits)

    monkeypatch.setattr(decode_module, "probe", probe)
    return calls


def test_frames_and_soundtrack_of_one_trailer_share_one_probe(media_dir, monkeypatch):
    calls = counting_probe(monkeypatch)
    bundle, decode = Bundle(id="m", trailer=media_dir / "good.mp4"), Decode()
    sampled = VideoEncoder(frame_size=32, n_frames=4).load_input(bundle, decode)
    pcm = AudioEncoder(n_mels=16, clip_seconds=1.0, n_clips=2).load_input(bundle, decode)
    assert sampled.frames.shape == (4, 32, 32, 3) and pcm is not None and pcm.size
    assert calls == [media_dir / "good.mp4"]


def test_a_refused_file_is_refused_to_every_reader_without_a_second_probe(media_dir, monkeypatch):
    calls = counting_probe(monkeypatch)
    bundle, decode = Bundle(id="m", trailer=media_dir / "text.mp4"), Decode()
    for encoder in (VideoEncoder(frame_size=32, n_frames=4), AudioEncoder(n_mels=16)):
        with pytest.raises(UnsupportedMediaError):
            encoder.load_input(bundle, decode)
    assert len(calls) == 1
