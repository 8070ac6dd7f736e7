"""Progress bars for the long jobs (synth, train, batch predict): tqdm on a terminal; elsewhere (CI
logs, `docker logs`, a file) one plain line every few seconds instead of tqdm's carriage-return
redraws, which a log keeps as thousands of updates on one endless line."""

import io
import sys
from typing import Any, TextIO

from tqdm import tqdm

LOG_INTERVAL_S = 5.0
LOG_FORMAT = "{desc}: {n_fmt}/{total_fmt} ({percentage:.0f}%) [{elapsed}<{remaining}, {rate_fmt}]"


class _Lines(io.TextIOBase):
    """A stream for tqdm that turns each redraw ('\\r' + bar + padding) into one line."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> int:
        line = text.replace("\r", "").rstrip()
        if line:
            self.stream.write(line + "\n")
            self.stream.flush()
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def progress(iterable=None, *, file: TextIO | None = None, **kwargs: Any) -> tqdm:
    """`tqdm(iterable, **kwargs)`, with a line every LOG_INTERVAL_S seconds when `file` (stderr) is no terminal."""
    file = file or sys.stderr
    if file.isatty():
        return tqdm(iterable, file=file, **kwargs)
    kwargs["leave"] = True  # a log keeps the final count
    return tqdm(iterable, file=_Lines(file), mininterval=LOG_INTERVAL_S, maxinterval=LOG_INTERVAL_S,
                bar_format=LOG_FORMAT, **kwargs)
