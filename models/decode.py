"""What every encoder's `load_input` receives: the decode limits, and each file probed only once.

The predictor makes one `Decode` per bundle and hands it to every encoder, so the frame and the
soundtrack encoders, which read the same trailer side by side, share one probe (and its deadline).
"""

import threading
from dataclasses import dataclass, field
from pathlib import Path

from models.image import DEFAULT_MAX_PIXELS
from models.media import DEFAULT_LIMITS, MediaError, MediaInfo, MediaLimits, probe


@dataclass
class Decode:
    limits: MediaLimits = DEFAULT_LIMITS  # duration, frame size and pixels, time and memory of ffmpeg
    max_image_pixels: int = DEFAULT_MAX_PIXELS  # still images (the poster), checked before decoding
    _probes: dict[Path, MediaInfo | Exception] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def probe(self, path: Path) -> MediaInfo:
        """The file's probe (models.media.probe under these limits), run once; a refusal is re-raised."""
        with self._lock:
            if path not in self._probes:
                try:
                    self._probes[path] = probe(path, self.limits)
                except (MediaError, OSError) as err:  # kept, to refuse the next reader the same way
                    self._probes[path] = err
            result = self._probes[path]
        if isinstance(result, Exception):
            raise result
        return result
