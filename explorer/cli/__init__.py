"""Command line: `explorer [gui|train|embed|grid|path|timeline|evaluate|download|bench] ...`.

`main` is the `explorer` command: the parser (cli.parser) picks the command, whose module (cli.commands,
cli.map_commands) is imported only when it runs. Every user error ends as one line on stderr and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import signal
import sys

from explorer.utils.errors import ExplorerError
from explorer.utils.numeric import EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    from explorer.cli.parser import build_parser
    from explorer.utils.interrupts import Terminated, raise_terminated

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(_with_command(argv))
    # SIGTERM and SIGHUP unwind like Ctrl-C, so no command leaves a temp file or a partial download
    # (the window keeps Qt's own handling)
    terminate = (signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))
    previous = {} if args.command == "gui" else {s: signal.signal(s, raise_terminated) for s in terminate
                                                 if signal.getsignal(s) is not None}
    try:
        return args.run(args) or 0
    except ExplorerError as e:
        details = getattr(e, "details", "")  # a UserModelError: the traceback of the user's own code
        hint = "; --debug shows its traceback" if details and not getattr(args, "debug", False) else ""
        print(f"explorer: error: {e}{hint}", file=sys.stderr)
        if details and getattr(args, "debug", False):
            print(details, file=sys.stderr, end="")
        return EXIT_ERROR
    except Terminated as e:
        print(f"explorer: stopped by {e}", file=sys.stderr)
        return 128 + e.signum
    except KeyboardInterrupt:
        print("explorer: interrupted", file=sys.stderr)
        return 130
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _with_command(argv: list[str]) -> list[str]:
    """`explorer --data-dir DIR` is `explorer gui --data-dir DIR`: options without a command go to the window."""
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        return ["gui", *argv]
    return argv
