"""ffmpeg and ffprobe on untrusted files: guarded command lines, and children whose cost is bounded.

Every child runs without a shell, reads only a local file given by absolute path
(`-protocol_whitelist file`) through the demuxers we accept (`-format_whitelist`), and
- gets an address-space limit (RLIMIT_AS, set by util-linux's `prlimit` just before it execs the
  tool), so a file that makes ffmpeg allocate without end fails instead of the machine running out
  of memory. Not `preexec_fn`: it makes Python fork() instead of vfork(), fork runs OpenBLAS's
  at-fork handler, and that handler deadlocks while another thread is inside a BLAS call (a
  soundtrack's mel filterbank while the next trailer is being probed, seen in training);
- runs with at most two malloc arenas (MALLOC_ARENA_MAX): glibc reserves 64 MB of address space for each
  thread's arena, so an ffmpeg with one demuxer thread per input used twice the address space it needed
  (8 keyframe seeks into a 720p trailer: 1,000 MB of the 1,024 MB limit, 500 MB with two arenas);
- stops at the caller's deadline (one per file, shared by all its subprocesses);
- has its stdout read up to a cap the caller sets from what it can use (n frames, the seconds of
  sound wanted, the packet index of a plausible video); past it the child is killed;
- may write a second output to a pipe of its own (`SidePipe`: ffmpeg's `pipe:N`), read up to its own cap,
  so that one process can serve two readers (the frame and the motion samplers);
- has only the start of its stderr kept (the first error is the cause; a broken file can make
  ffmpeg print hundreds of megabytes of the same complaint).
"""

import os
import re
import selectors
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from models.media.errors import InvalidMediaError
from models.media.limits import Deadline

DEMUXERS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi"
THREADS = 2
INPUT_GUARD = {"protocol_whitelist": "file", "format_whitelist": DEMUXERS}
STDERR_KEEP = 64 * 1024
READ_CHUNK = 1 << 16
_LOG_PREFIX = re.compile(r"^\[[^\]]* @ 0x[0-9a-f]+\] ")


@dataclass(frozen=True)
class Output:
    returncode: int
    stdout: bytes
    stderr: bytes  # its first STDERR_KEEP bytes
    overflowed: bool  # stdout (or the side pipe) passed its cap: the child was killed, the output ends at the cap
    side: bytes = b""  # what the child wrote to its SidePipe, up to that pipe's cap


class SidePipe:
    """A second output pipe for one child: ffmpeg writes to `url` (`pipe:N`, the descriptor the child
    inherits), `run` reads it up to `cap` bytes. Use it as a context manager: both ends are closed on exit."""

    def __init__(self, cap: int):
        self.cap = cap
        self.read_fd, self.write_fd = os.pipe()

    @property
    def url(self) -> str:
        return f"pipe:{self.write_fd}"

    def close_write(self) -> None:
        """The parent's copy of the write end: closed once the child has its own, so the read ends with it."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close_write()
        if self.read_fd >= 0:
            os.close(self.read_fd)
            self.read_fd = -1


def run(cmd: list[str], deadline: Deadline, what: str, max_stdout: int, memory_mb: int,
        side: SidePipe | None = None) -> Output:
    """Run `cmd` to its end, its cap, or the deadline (then InvalidMediaError "<what> timed out")."""
    deadline.remaining(what)
    limited = ["prlimit", f"--as={memory_mb << 20}", "--", *cmd]
    with subprocess.Popen(limited, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env={**os.environ, "MALLOC_ARENA_MAX": "2"}, pass_fds=(side.write_fd,) if side else ()) as child:
        try:
            if side:
                side.close_write()
            outputs, overflowed = _read(child, deadline, what, max_stdout, side)
            if overflowed:
                child.kill()
            returncode = child.wait(timeout=deadline.remaining(what))
        except subprocess.TimeoutExpired as err:
            raise InvalidMediaError(f"{what} timed out (the limit is {deadline.seconds:g} s per file)") from err
        finally:
            if child.poll() is None:
                child.kill()
    stdout, stderr, side_out = outputs
    return Output(returncode, stdout, stderr, overflowed, side_out)


def _read(child: subprocess.Popen, deadline: Deadline, what: str, max_stdout: int,
          side: SidePipe | None) -> tuple[tuple[bytes, bytes, bytes], bool]:
    """(stdout, stderr, side) as read, and whether stdout or the side pipe passed its cap (reading stops there)."""
    streams = [(child.stdout.fileno(), max_stdout), (child.stderr.fileno(), None)]
    streams += [(side.read_fd, side.cap)] if side else []
    data = {fd: bytearray() for fd, _ in streams}
    overflowed = False
    with selectors.DefaultSelector() as selector:
        for fd, cap in streams:
            selector.register(fd, selectors.EVENT_READ, cap)
        while selector.get_map() and not overflowed:
            for key, _ in selector.select(timeout=deadline.remaining(what)):
                chunk, kept, cap = os.read(key.fd, READ_CHUNK), data[key.fd], key.data
                if not chunk:
                    selector.unregister(key.fd)
                elif cap is None:  # stderr: only its start is worth keeping
                    kept += chunk[: STDERR_KEEP - len(kept)]
                else:
                    kept += chunk
                    if len(kept) > cap:
                        del kept[cap:]
                        overflowed = True
    stdout, stderr = bytes(data[streams[0][0]]), bytes(data[streams[1][0]])
    return (stdout, stderr, bytes(data[side.read_fd]) if side else b""), overflowed


def ffprobe_cmd(path: Path, *args: str) -> list[str]:
    """ffprobe over the whitelisted demuxers, `args` before the input."""
    return ["ffprobe", "-hide_banner", "-loglevel", "error", "-threads", str(THREADS),
            "-protocol_whitelist", "file", "-format_whitelist", DEMUXERS, *args, f"file:{path}"]


def ffmpeg_cmd(stream, threads: int = THREADS) -> list[str]:
    """The command line of an ffmpeg-python output stream, quiet and with bounded threads."""
    args = stream.compile(cmd="ffmpeg")
    return [args[0], "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error",
            "-threads", str(threads), "-filter_complex_threads", str(threads), *args[1:]]


def reason(stderr: bytes, path: Path, name: str) -> str:
    """ffmpeg's first error line (usually the cause), with this machine's path replaced by the file name."""
    lines = [_LOG_PREFIX.sub("", line).strip() for line in stderr.decode(errors="replace").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return ""
    first = lines[0].replace(f"file:{path}", name).replace(str(path), name)
    return f" ({first[:200]})"
