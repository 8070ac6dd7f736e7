"""Progress: a terminal gets tqdm's bar; a log gets whole lines, a few seconds apart."""

import io

from training.progress import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_whole_lines_not_carriage_return_redraws():
    log = io.StringIO()
    for _ in progress(range(1000), total=1000, desc="synth", unit="movie", file=log):
        pass
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    assert len(lines) == 2  # the start and the end: 1000 quick steps are within one interval
    assert lines[-1].startswith("synth: 1000/1000 (100%) [")


def test_a_log_keeps_the_last_line_of_a_bar_that_would_vanish():
    log = io.StringIO()
    with progress(total=3, desc="video", unit="movie", leave=False, file=log) as bar:
        bar.update(3)
    assert log.getvalue().splitlines()[-1].startswith("video: 3/3 (100%)")


def test_a_terminal_gets_the_tqdm_bar():
    terminal = Terminal()
    for _ in progress(range(3), total=3, desc="synth", file=terminal):
        pass
    assert "\r" in terminal.getvalue() and "|" in terminal.getvalue()
