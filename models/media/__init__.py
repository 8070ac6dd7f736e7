"""The only decode path for trailers, shared by training and serving.

Uploads are untrusted. Every ffprobe/ffmpeg call runs as a subprocess (never a shell) with bounded
memory, output and time (`process.py`), reads only a local file given by absolute path and only
through the demuxers we accept, so an HLS playlist, a concat list or an image renamed .mp4 is
refused before ffmpeg opens anything else. Decoding forces the demuxer that probing found, and
obeys the limits the file was probed under; the probe starts one deadline for all of the file's
subprocesses. Error messages name the file, never the path on this machine.

    probe.py       container, duration, size, codecs; the limits on what the header says
    frames.py      frames sampled across the trailer (keyframe seeking; a one-pass fallback)
    soundtrack.py  the first audio stream as mono float PCM
    motion.py      runs of consecutive grey low-resolution frames, for optical flow and shot pace; read
                   in the frame sampler's process when a request wants both (models.decode)
    process.py     the guarded subprocess: command lines, deadline, output caps, memory limit
    limits.py      MediaLimits and the per-file Deadline
"""

from models.media.errors import InvalidMediaError, MediaError, UnsupportedMediaError
from models.media.frames import SampledFrames, sample_frames, sample_timed_frames
from models.media.limits import DEFAULT_LIMITS, MediaLimits
from models.media.probe import VIDEO_CODECS, MediaInfo, probe
from models.media.process import DEMUXERS
from models.media.soundtrack import extract_audio

__all__ = ["DEFAULT_LIMITS", "DEMUXERS", "VIDEO_CODECS", "InvalidMediaError", "MediaError", "MediaInfo",
           "MediaLimits", "SampledFrames", "UnsupportedMediaError", "extract_audio", "probe", "sample_frames",
           "sample_timed_frames"]
