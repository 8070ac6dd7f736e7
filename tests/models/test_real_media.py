"""Real clips (tests/real_media.py) through the project's decode path under the default limits: probe,
frames, soundtrack; and the damaged copy, which decodes or is refused with a reason naming the file."""

import numpy as np
import pytest
from real_media import CLIPS, DAMAGED, clip_path

from models.decode import Decode
from models.media import DEFAULT_LIMITS, MediaError, extract_audio, sample_timed_frames

SAMPLE_RATE = 12_000  # the audio encoder's rate
FRAME_SIZE = (64, 48)


@pytest.fixture(params=list(CLIPS), ids=list(CLIPS))
def clip(request):
    return CLIPS[request.param], clip_path(CLIPS[request.param])


def test_default_limits_accept_the_real_clips(clip):
    expected, path = clip
    info = Decode().probe(path)  # what every encoder's load_input probes with: the default limits
    assert info.limits == DEFAULT_LIMITS
    assert (info.width, info.height) == expected.size
    assert info.video_codec == expected.video_codec and info.audio_codec == expected.audio_codec
    assert info.has_audio == (expected.audio_codec is not None)
    assert info.duration_s == pytest.approx(expected.duration_s, abs=0.05)


def test_frames_spread_over_the_real_clips(clip):
    expected, path = clip
    sampled = sample_timed_frames(path, Decode().probe(path), 8, FRAME_SIZE)
    assert sampled.frames.shape == (8, FRAME_SIZE[1], FRAME_SIZE[0], 3) and sampled.frames.dtype == np.uint8
    assert sampled.source_size == expected.size
    assert np.all(np.diff(sampled.times_s) > 0) and 0 <= sampled.times_s[0] and sampled.times_s[-1] < expected.duration_s
    assert sampled.times_s[-1] - sampled.times_s[0] > 0.6 * expected.duration_s  # spread, not bunched at the start
    changes = np.abs(np.diff(sampled.frames.astype(np.int16), axis=0)).mean(axis=(1, 2, 3))
    assert np.count_nonzero(changes > 1) >= 4  # real footage: the sampled frames differ


def test_soundtracks_of_the_real_clips(clip):
    expected, path = clip
    pcm = extract_audio(path, Decode().probe(path), SAMPLE_RATE)
    if expected.audio_codec is None:
        assert pcm is None
        return
    # 5.1 AAC and stereo AC3 come out as one mono channel, all of it (AC3's last frame is cut short)
    assert pcm.ndim == 1 and pcm.dtype == np.float32
    assert len(pcm) / SAMPLE_RATE == pytest.approx(expected.duration_s, abs=0.5)
    assert np.sqrt(np.mean(pcm**2)) > 1e-3 and np.abs(pcm).max() <= 1  # sound, not silence


def test_the_damaged_copy_decodes_or_is_refused_by_name():
    path = clip_path(DAMAGED)
    try:
        info = Decode().probe(path)
        sampled = sample_timed_frames(path, info, 8, FRAME_SIZE)
        pcm = extract_audio(path, info, SAMPLE_RATE)
    except MediaError as err:
        assert DAMAGED.file in str(err) and str(path.parent) not in str(err)
        return
    # what ffmpeg makes of it today: the header's 30 fps (9 s), and no soundtrack
    assert (info.width, info.height) == DAMAGED.size and not info.has_audio and pcm is None
    assert sampled.frames.shape == (8, FRAME_SIZE[1], FRAME_SIZE[0], 3)
    assert sampled.times_s[-1] < info.duration_s
