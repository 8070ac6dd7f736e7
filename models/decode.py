"""What every encoder's `load_input` receives: the decode limits, and each file probed only once.

The predictor makes one `Decode` per bundle and hands it to every encoder, so the frame and the
soundtrack encoders, which read the same trailer side by side, share one probe (and its deadline).
Readers may announce what they will ask of a file (`expect`) before any of them starts: when both the
sampled frames and the runs for motion of one trailer are expected, whichever asks first decodes both
(models.media.motion.sample_frames_and_runs: the same frames, one ffmpeg start fewer) and the other
takes its part. Unannounced, each read decodes on its own (training, which caches each encoder's
features apart).
"""

import threading
from dataclasses import dataclass, field
from pathlib import Path

from models.image import DEFAULT_MAX_PIXELS
from models.media import DEFAULT_LIMITS, MediaError, MediaInfo, MediaLimits, SampledFrames, probe
from models.media.frames import FramesWanted, sample_timed_frames
from models.media.motion import FrameRuns, RunsWanted, sample_frame_runs, sample_frames_and_runs


@dataclass
class Decode:
    limits: MediaLimits = DEFAULT_LIMITS  # duration, frame size and pixels, time and memory of ffmpeg
    max_image_pixels: int = DEFAULT_MAX_PIXELS  # still images (the poster), checked before decoding
    _probes: dict[Path, MediaInfo | Exception] = field(default_factory=dict, repr=False)
    _expected: dict[tuple[Path, type], object] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def expect(self, path: Path, wanted: FramesWanted | RunsWanted) -> None:
        """Announce that a reader will ask `wanted` of `path` (see the module's docstring)."""
        with self._lock:
            self._expected[(path, type(wanted))] = wanted

    def frames(self, path: Path, wanted: FramesWanted) -> SampledFrames:
        """models.media.frames.sample_timed_frames of the file, shared with its expected runs for motion."""
        info = self.probe(path)
        if not self._shared(path, wanted):
            return sample_timed_frames(path, info, wanted.n_frames, wanted.size)
        return self._frames_and_runs(path, info)[0]

    def frame_runs(self, path: Path, wanted: RunsWanted) -> FrameRuns:
        """models.media.motion.sample_frame_runs of the file, shared with its expected sampled frames."""
        info = self.probe(path)
        if not self._shared(path, wanted):
            return sample_frame_runs(path, info, wanted.n_windows, wanted.window_frames, wanted.width)
        return self._frames_and_runs(path, info)[1]

    def _shared(self, path: Path, wanted: FramesWanted | RunsWanted) -> bool:
        """Whether `wanted` is what was announced and the other reader of the pair was announced too."""
        return (self._expected.get((path, type(wanted))) == wanted
                and all((path, kind) in self._expected for kind in (FramesWanted, RunsWanted)))

    def _frames_and_runs(self, path: Path, info: MediaInfo) -> tuple[SampledFrames, FrameRuns]:
        frames, runs = self._expected[(path, FramesWanted)], self._expected[(path, RunsWanted)]
        return info.memo.get(("frames and runs", path, frames, runs),
                             lambda: sample_frames_and_runs(path, info, frames.n_frames, frames.size, runs))

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
