"""Stopping the server quickly and quietly (Ctrl-C, SIGTERM).

uvicorn shuts down gracefully: it stops accepting connections, closes the idle ones, waits up to
GRACEFUL_SHUTDOWN_S for the requests still open, ends the lifespan, then re-raises the signal it
caught. Three things made Ctrl-C slow and noisy:
- an upload still arriving (a browser, a slow client) held the shutdown for the whole wait and was then
  cancelled, with a CancelledError traceback: the app is now told at the signal (`on_stop`, the gate's
  `refuse_uploads`) and answers such requests 503 at once; only predictions already running are waited for;
- the re-raised SIGINT became a KeyboardInterrupt after the event loop's close had waited for the
  model-loading thread (the lifespan now abandons that thread);
- the interpreter's teardown then spent seconds collecting the models: the process now ends by the
  signal itself once uvicorn has returned (a shell or `make` sees an interrupted command), skipping a
  teardown that has nothing left to clean up (request directories are removed by their requests).
"""

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from uvicorn.config import STARTUP_FAILURE

GRACEFUL_SHUTDOWN_S = 10
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StoppingServer(uvicorn.Server):
    """uvicorn's server, calling `on_stop` in the event loop as soon as a stop signal arrives."""

    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]):
        super().__init__(config)
        self.on_stop = on_stop

    def handle_exit(self, sig: int, frame) -> None:
        super().handle_exit(sig, frame)
        try:
            loop = asyncio.get_running_loop()  # a signal handler runs in the loop's (main) thread
        except RuntimeError:
            return
        loop.call_soon_threadsafe(self.on_stop)  # not in the handler: it may have interrupted the loop itself


def run_until_stopped(server: uvicorn.Server) -> None:
    """Run `server`; once a stop signal has ended it, end the process by that signal."""
    with _stop_signal_noted() as stopped_by:
        try:
            server.run()
        except KeyboardInterrupt:  # from `note`: uvicorn re-raised the signal after its shutdown
            if not stopped_by:
                raise
    if stopped_by:
        exit_by_signal(stopped_by[0])
    if not server.started:  # what uvicorn.run does: the lifespan's startup failed, or the port was taken
        sys.exit(STARTUP_FAILURE)


@contextmanager
def _stop_signal_noted() -> Iterator[list[int]]:
    """While the server runs, SIGINT and SIGTERM are noted and unwind as a KeyboardInterrupt. uvicorn has its
    own handlers while it serves and calls this one (re-raising the signal) once it has shut down."""
    noted: list[int] = []

    def note(sig: int, frame) -> None:
        noted.append(sig)
        raise KeyboardInterrupt

    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig, handler in previous.items():
        if handler is not signal.SIG_IGN:  # e.g. a job started in the background keeps ignoring SIGINT
            signal.signal(sig, note)
    try:
        yield noted
    finally:
        if not noted:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def exit_by_signal(sig: int) -> None:
    """End the process now, by `sig` with its default action, after flushing the logs and the output."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)
    os._exit(128 + sig)  # only if the signal did not end the process (blocked, say)
