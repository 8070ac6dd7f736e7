"""ffmpeg and ffprobe on untrusted files: guarded command lines, and children whose cost is bounded.

Every child runs without a shell, reads only a local file given by absolute path
(`-protocol_whitelist file`) through the demuxers we accept (`-format_whitelist`), and
- gets an address-space limit (RLIMIT_AS, set by util-linux's `prlimit` just before it execs the
  tool), so a file that makes ffmpeg allocate without end fails instead of the machine running out
  of memory. Not `preexec_fn`: it makes Python fork() instead of vfork(), fork runs OpenBLAS's
  at-fork handler, and that handler deadlocks while another thread is inside a BLAS call (a
  soundtrack's mel filterbank while the next trailer is being probed, seen in training);
- stops at the caller's deadline (one per file, shared by all its subprocesses);
- has its stdout read up to a cap the caller sets from what it can use (n frames, the seconds of
  sound wanted, the packet index of a plausible video); past it the child is killed;
- has only the start of its stderr kept (the first error is the cause; a broken file can make
  ffmpeg print hundreds of megabytes of the same complaint).
"""

import os
import re
import selectors
import subprocess
from dataclasses import dataclass
from pathlib import Path

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
    overflowed: bool  # stdout passed its cap: the child was killed, stdout ends at the cap


def run(cmd: list[str], deadline: Deadline, what: str, max_stdout: int, memory_mb: int) -> Output:
    """Run `cmd` to its end, its cap, or the deadline (then InvalidMediaError "<what> timed out")."""
    deadline.remaining(what)
    limited = ["prlimit", f"--as={memory_mb << 20}", "--", *cmd]
    with subprocess.Popen(limited, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as child:
        try:
            stdout, stderr, overflowed = _read(child, deadline, what, max_stdout)
            if overflowed:
                child.kill()
            returncode = child.wait(timeout=deadline.remaining(what))
        except subprocess.TimeoutExpired as err:
            raise InvalidMediaError(f"{what} timed out (the limit is {deadline.seconds:g} s per file)") from err
        finally:
            if child.poll() is None:
                child.kill()
    return Output(returncode, stdout, stderr, overflowed)


def _read(child: subprocess.Popen, deadline: Deadline, what: str, max_stdout: int) -> tuple[bytes, bytes, bool]:
    stdout, stderr = bytearray(), bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ, stdout)
        selector.register(child.stderr, selectors.EVENT_READ, stderr)
        while selector.get_map():
            for key, _ in selector.select(timeout=deadline.remaining(what)):
                chunk = os.read(key.fd, READ_CHUNK)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif key.data is stderr:
                    stderr += chunk[: STDERR_KEEP - len(stderr)]
                else:
                    stdout += chunk
                    if len(stdout) > max_stdout:
                        return bytes(stdout[:max_stdout]), bytes(stderr), True
    return bytes(stdout), bytes(stderr), False


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
