"""models.media: probing, keyframe sampling, audio extraction, and refusal of hostile uploads."""

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from media_fixtures import (
    make_audio,
    make_image,
    make_video,
    run_ffmpeg,
    truncate_copy,
    write_ffconcat,
    write_hls_playlist,
)

from models.media import (
    InvalidMediaError,
    MediaError,
    MediaLimits,
    UnsupportedMediaError,
    extract_audio,
    probe,
    process,
    sample_frames,
)
from models.media import frames as media_frames

SIZE = (32, 24)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Tiny 3 s, 96x64, 10 fps clips; gop=10 means one keyframe a second."""
    root = tmp_path_factory.mktemp("media")
    made = {
        "mp4": make_video(root / "good.mp4", gop=10),
        "one_keyframe": make_video(root / "one_keyframe.mp4", audio=False),
        "silent": make_video(root / "silent.mp4", audio=False, gop=10),
        "mkv": make_video(root / "good.mkv", gop=10, audio=False),
        "webm": make_video(root / "good.webm", codec="libvpx-vp9", gop=10),
        "avi_mpeg4": make_video(root / "mpeg4.avi", codec="mpeg4", gop=10, audio=False),
        "avi_mjpeg": make_video(root / "mjpeg.avi", codec="mjpeg", duration=1, audio=False),
        "ffv1": make_video(root / "ffv1.mkv", codec="ffv1", duration=1, audio=False),
        "m4a": make_audio(root / "audio.m4a"),
        "mp3": make_audio(root / "audio.mp3", codec="libmp3lame"),
        "png": make_image(root / "poster.png"),
    }
    made["empty"] = root / "empty.mp4"
    made["empty"].write_bytes(b"")
    made["text"] = root / "text.mp4"
    made["text"].write_text("just some text, not a video\n")
    made["truncated"] = truncate_copy(made["mp4"], root / "truncated.mp4")
    made["image_as_mp4"] = Path(shutil.copy(made["png"], root / "image.mp4"))
    made["hls"] = write_hls_playlist(root / "playlist.mp4", made["mp4"])
    made["ffconcat"] = write_ffconcat(root / "concat.mp4", made["mp4"])
    return made


def reference_frame(path: Path, time_s: float) -> np.ndarray:
    """The frame an accurate seek returns, scaled like sample_frames does (no guards: trusted test file)."""
    out = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path), "-ss", str(time_s),
                          "-frames:v", "1", "-vf", f"scale={SIZE[0]}:{SIZE[1]}", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "pipe:1"], capture_output=True, check=True, timeout=30).stdout
    return np.frombuffer(out, np.uint8).reshape(SIZE[1], SIZE[0], 3)


def decode_every_frame(path: Path) -> np.ndarray:
    out = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path), "-vf", f"scale={SIZE[0]}:{SIZE[1]}",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], capture_output=True, check=True,
                         timeout=30).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, SIZE[1], SIZE[0], 3)


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


@pytest.mark.parametrize("key, format_name, codec, has_audio", [
    ("mp4", "mov,mp4,m4a,3gp,3g2,mj2", "h264", True),
    ("mkv", "matroska,webm", "h264", False),
    ("webm", "matroska,webm", "vp9", True),
    ("avi_mpeg4", "avi", "mpeg4", False),
    ("avi_mjpeg", "avi", "mjpeg", False),
])
def test_probe_accepted_videos(files, key, format_name, codec, has_audio):
    info = probe(files[key])
    assert (info.format_name, info.video_codec, info.has_audio) == (format_name, codec, has_audio)
    assert (info.width, info.height) == (96, 64)
    assert info.duration_s == pytest.approx(1 if key == "avi_mjpeg" else 3, abs=0.15)
    assert info.fps == pytest.approx(10, abs=0.1)
    frames = sample_frames(files[key], info, 3, SIZE)
    assert frames.shape == (3, SIZE[1], SIZE[0], 3) and frames.dtype == np.uint8
    assert frames.flags.writeable  # torch.from_numpy warns on read-only arrays


@pytest.mark.parametrize("codec, suffix, name", [
    ("libx265", ".mp4", "hevc"), ("libvpx", ".webm", "vp8"), ("mpeg2video", ".mkv", "mpeg2video"),
    ("prores_ks", ".mov", "prores"),
])
def test_other_accepted_codecs(tmp_path, codec, suffix, name):
    try:
        path = make_video(tmp_path / f"clip{suffix}", duration=1, audio=False, codec=codec, gop=5)
    except subprocess.CalledProcessError:
        pytest.skip(f"this ffmpeg cannot encode {codec}")
    info = probe(path)
    assert info.video_codec == name
    assert sample_frames(path, info, 2, SIZE).shape == (2, SIZE[1], SIZE[0], 3)


def test_probe_reports_audio_codec(files):
    assert probe(files["mp4"]).audio_codec == "aac"
    assert probe(files["webm"]).audio_codec == "opus"


def test_silent_video_has_no_audio(files):
    info = probe(files["silent"])
    assert not info.has_audio and info.audio_codec is None
    assert extract_audio(files["silent"], info, 16000) is None


def record_commands(monkeypatch) -> list[list[str]]:
    commands: list[list[str]] = []
    real_popen = subprocess.Popen

    def spy(cmd, **kwargs):
        if cmd[0] == "prlimit":  # a media child, under its address-space limit (the tests' own ffmpeg is not)
            _, limit, separator, *tool = cmd
            assert separator == "--" and limit.startswith("--as=")
            commands.append(tool)
        return real_popen(cmd, **kwargs)

    monkeypatch.setattr(process.subprocess, "Popen", spy)
    return commands


def seek_count(commands: list[list[str]]) -> int:
    return sum(cmd.count("-ss") for cmd in commands)


def test_enough_keyframes_are_decoded_alone_by_seeking(files, monkeypatch):
    info = probe(files["mp4"])  # keyframes at 0, 1 and 2 s
    commands = record_commands(monkeypatch)
    frames = sample_frames(files["mp4"], info, 3, SIZE)
    assert commands[0][0] == "ffprobe" and "packet=pts_time,duration_time,flags" in commands[0]  # the keyframe index
    assert seek_count(commands) == 3 and all("-ss" in cmd for cmd in commands[1:])  # no full decode
    for frame, keyframe_time in zip(frames, (0.0, 1.0, 2.0), strict=True):
        assert mean_abs_diff(frame, reference_frame(files["mp4"], keyframe_time)) < 1
    assert min(mean_abs_diff(a, b) for i, a in enumerate(frames) for b in frames[i + 1:]) > 5


@pytest.mark.parametrize("extra, suffix", [
    (["-bf", "3", "-preset", "veryfast"], ".mp4"),  # B-frames: presentation times lag decode times
    (["-output_ts_offset", "7"], ".mkv"),  # the stream starts at 7 s, not 0
    (["-x264-params", "open-gop=1", "-bf", "2", "-preset", "veryfast"], ".mkv"),  # leading frames
])
def test_seeks_land_on_the_chosen_keyframes(tmp_path, extra, suffix):
    path = tmp_path / f"clip{suffix}"
    run_ffmpeg("-f", "lavfi", "-i", "testsrc2=size=96x64:rate=10", "-t", "4", "-c:v", "libx264",
               "-pix_fmt", "yuv420p", "-g", "10", "-keyint_min", "10", *extra, str(path))
    info = probe(path)
    frames = sample_frames(path, info, 4, SIZE)
    every_frame = decode_every_frame(path)
    for frame, keyframe_index in zip(frames, (0, 10, 20, 30), strict=True):  # targets 0.5, 1.5, 2.5, 3.5 s
        assert mean_abs_diff(frame, every_frame[keyframe_index]) < 1


def test_a_time_between_keyframes_gives_the_frame_shown_then(files):
    path = files["mp4"].resolve()  # 10 fps, keyframes at 0, 1 and 2 s: the seek lands on 1 s, 3 frames early
    info = probe(path)
    frames = media_frames._decode_at_times(path, path.name, info, np.array([1.3]), SIZE, info.limits, info.deadline)
    assert mean_abs_diff(frames[0], decode_every_frame(path)[13]) < 1


def test_many_frames_are_split_between_processes(files, monkeypatch):
    path = files["avi_mjpeg"]  # every frame is a keyframe: 10 of them
    commands = record_commands(monkeypatch)
    frames = sample_frames(path, probe(path), 10, SIZE)
    decoders = [cmd for cmd in commands if cmd[0] == "ffmpeg"]
    assert len(decoders) == media_frames.SEEK_PROCESSES and seek_count(decoders) == 10
    every_frame = decode_every_frame(path)
    assert all(mean_abs_diff(frame, every_frame[k]) < 1 for k, frame in enumerate(frames))  # all ten, in order


def test_long_gop_falls_back_to_one_full_decode(files, monkeypatch):
    info = probe(files["one_keyframe"])  # a single keyframe: too few for 3 frames
    commands = record_commands(monkeypatch)
    frames = sample_frames(files["one_keyframe"], info, 3, SIZE)
    assert len(commands) == 2 and seek_count(commands) == 0  # the keyframe index, then one full decode
    assert frames.flags.writeable
    for frame, target in zip(frames, (0.5, 1.5, 2.5), strict=True):  # centres of three 1 s segments
        assert mean_abs_diff(frame, reference_frame(files["one_keyframe"], target)) < 1
    assert min(mean_abs_diff(a, b) for i, a in enumerate(frames) for b in frames[i + 1:]) > 5


def test_always_exactly_n_frames(files):
    info = probe(files["one_keyframe"])  # 30 frames in all
    frames = sample_frames(files["one_keyframe"], info, 40, SIZE)
    assert frames.shape == (40, SIZE[1], SIZE[0], 3)
    assert (frames[-1] == frames[-2]).all()  # padded with the last frame


def test_nearest_distinct_keyframes():
    times = np.array([0.0, 1.0, 2.0, 10.0])
    assert media_frames._nearest_distinct(times, np.array([0.4, 0.6, 9.0])).tolist() == [0, 1, 3]
    assert media_frames._nearest_distinct(np.array([0.0]), np.array([0.5, 1.5])).tolist() == [0, 0]


def test_extract_audio_length_and_pitch(files):
    info = probe(files["mp4"])
    pcm = extract_audio(files["mp4"], info, 8000)
    assert pcm.dtype == np.float32 and pcm.ndim == 1 and pcm.flags.writeable
    assert len(pcm) == pytest.approx(3 * 8000, abs=0.1 * 8000)
    assert np.abs(pcm).max() <= 1.0
    spectrum = np.abs(np.fft.rfft(pcm))
    assert np.fft.rfftfreq(len(pcm), 1 / 8000)[spectrum.argmax()] == pytest.approx(440, abs=3)
    assert len(extract_audio(files["mp4"], info, 8000, max_seconds=1.0)) == pytest.approx(8000, abs=10)


@pytest.mark.parametrize("key, error, words", [
    ("empty", UnsupportedMediaError, "empty"),
    ("text", UnsupportedMediaError, "not a video"),
    ("truncated", InvalidMediaError, "truncated"),
    ("m4a", UnsupportedMediaError, "audio-only"),
    ("mp3", UnsupportedMediaError, "'mp3'"),
    ("hls", UnsupportedMediaError, "'hls'"),
    ("ffconcat", UnsupportedMediaError, "'concat'"),
    ("image_as_mp4", UnsupportedMediaError, "'png'"),
    ("ffv1", UnsupportedMediaError, "'ffv1'"),
])
def test_refusals(files, key, error, words):
    with pytest.raises(error, match=words) as caught:
        probe(files[key])
    assert str(files[key].parent) not in str(caught.value)  # messages never show this machine's paths


def test_missing_file_and_directory_are_refused(files):
    for path in (files["mp4"].parent / "missing.mp4", files["mp4"].parent):
        with pytest.raises(MediaError, match="no such file"):
            probe(path)


@pytest.mark.parametrize("maker", [write_hls_playlist, write_ffconcat])
def test_playlists_never_open_the_files_they_name(tmp_path, maker):
    """A FIFO blocks whoever opens it: were it opened, probing would hang until the timeout."""
    fifo = tmp_path / "segment.mp4"
    os.mkfifo(fifo)
    with pytest.raises(UnsupportedMediaError, match="not accepted"):
        probe(maker(tmp_path / "list.mp4", fifo), MediaLimits(timeout_s=5))


def test_every_command_is_guarded(files, monkeypatch):
    commands = record_commands(monkeypatch)
    info = probe(files["one_keyframe"])
    sample_frames(files["one_keyframe"], info, 3, SIZE)
    extract_audio(files["mp4"], probe(files["mp4"]), 8000)
    assert len(commands) == 5
    for cmd in commands:
        assert cmd[0] in ("ffmpeg", "ffprobe")
        assert cmd[cmd.index("-protocol_whitelist") + 1] == "file"
        assert cmd[cmd.index("-format_whitelist") + 1] == process.DEMUXERS
        source = cmd[cmd.index("-i") + 1] if "-i" in cmd else cmd[-1]
        assert source.startswith("file:/") and Path(source[5:]).is_absolute()
        assert "-threads" in cmd
        if cmd[0] == "ffmpeg":
            assert "-nostdin" in cmd and cmd[cmd.index("-f") + 1] == "mov"  # demuxer forced before -i
            assert cmd.index("-f") < cmd.index("-i")


def test_limits(files):
    with pytest.raises(InvalidMediaError, match="96x64 exceeds the limit 64x4320"):
        probe(files["mp4"], MediaLimits(max_width=64))
    with pytest.raises(InvalidMediaError, match="96x64 exceeds the limit 7680x32"):
        probe(files["mp4"], MediaLimits(max_height=32))
    with pytest.raises(InvalidMediaError, match=r"duration 3\.0 s exceeds the limit 2 s"):
        probe(files["mp4"], MediaLimits(max_duration_s=2))


def test_timeouts(files):
    tiny = MediaLimits(timeout_s=0.005)
    with pytest.raises(InvalidMediaError, match="timed out"):
        probe(files["mp4"], tiny)
    info = probe(files["mp4"])
    with pytest.raises(InvalidMediaError, match="timed out"):
        sample_frames(files["mp4"], info, 3, SIZE, tiny)
    with pytest.raises(InvalidMediaError, match="timed out"):
        extract_audio(files["mp4"], info, 8000, limits=tiny)


def test_decoding_keeps_the_limits_the_file_was_probed_under(files):
    """The service probes with its own limits; the encoders' decodes must obey them too."""
    info = dataclasses.replace(probe(files["mp4"]), limits=MediaLimits(timeout_s=0.005))
    with pytest.raises(InvalidMediaError, match="timed out"):
        sample_frames(files["mp4"], info, 3, SIZE)
    with pytest.raises(InvalidMediaError, match="timed out"):
        extract_audio(files["mp4"], info, 8000)


def test_bad_arguments(files):
    info = probe(files["mp4"])
    with pytest.raises(ValueError):
        sample_frames(files["mp4"], info, 0, SIZE)
