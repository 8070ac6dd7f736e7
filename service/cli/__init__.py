"""`moviescope`: synth | train | evaluate | serve | predict | demo.

Errors a user can fix (bad dataset rows, bad config, unusable media) print one clear
message naming the file and field and exit with status 2; no traceback. The commands that run
jobs (training, batch prediction, the demo) live in this package, the only part of service/
that imports training/.
"""

import logging
import sys

from pydantic import ValidationError

from models.validation import describe
from service.cli.parser import build_parser

EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if not args.quiet else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    try:
        return args.run(args) or 0
    except (ValueError, OSError, ValidationError) as err:  # user errors: DatasetError, MediaError, a bad path, ...
        print(f"moviescope {args.command}: error: {_user_message(err)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"moviescope {args.command}: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


def _user_message(err: Exception) -> str:
    """What went wrong, naming the file or the key: never a traceback."""
    if isinstance(err, ValidationError):
        return describe(err)
    if isinstance(err, OSError) and err.filename is not None:  # e.g. "runs/x: Not a directory"
        return f"{err.filename}: {err.strerror}"
    return str(err)
