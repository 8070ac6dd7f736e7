"""What one file may cost: its size and duration, the pixels of its decoded frames, the memory of each
ffmpeg/ffprobe child, and one deadline shared by all the subprocesses that read it."""

import math
import time
from dataclasses import dataclass

from models.media.errors import InvalidMediaError


@dataclass(frozen=True)
class MediaLimits:
    max_duration_s: float = 4 * 3600
    max_width: int = 7680
    max_height: int = 4320
    timeout_s: float = 120.0  # per file: its probe and every decode of it share one deadline
    max_memory_mb: int = 1024  # address space of each ffmpeg/ffprobe child (its libraries take ~300 MB)

    @property
    def max_pixels(self) -> int:
        """The most pixels a decoded frame may have, whatever the header said."""
        return self.max_width * self.max_height


DEFAULT_LIMITS = MediaLimits()
MAX_PACKET_RATE = 1000  # video packets (frames) per second of duration that a file may list
MAX_INDEX_PACKETS = 1_000_000  # and in all (4 h at 60 fps is 864,000)


def plausible_packets(duration_s: float) -> int:
    """The most video packets a file of this duration may list: a 10 KB MP4 can declare millions."""
    return min(MAX_INDEX_PACKETS, math.ceil(duration_s * MAX_PACKET_RATE) + 100)


class Deadline:
    """A point in time after which no subprocess of a file may run on."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self, what: str) -> float:
        """Seconds left; InvalidMediaError once none are."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise InvalidMediaError(f"{what} timed out (the limit is {self.seconds:g} s per file)")
        return left

    def capped(self, seconds: float) -> "Deadline":
        """This deadline, or one `seconds` from now if that comes first."""
        other = Deadline(seconds)
        return other if other.at < self.at else self
