"""`python -m staktrakr` and the `staktrakr` script: the command line, with SIGTERM and SIGINT
answered from the first moment.

Importing the command line takes a while (typer, rich, pydantic, httpx). A signal in that window
used to give a KeyboardInterrupt traceback (SIGINT) or kill the process without a word
(SIGTERM). Until a job installs its own handlers (jobs/harness.py), a signal ends the process
with one line and exit 128 + the signal (commands without a job, like `db flush`, keep their
progress on disk as they go; `serve` hands both signals to uvicorn).
"""

import signal
import sys


def _stopped(signum: int, frame: object) -> None:
    sys.stderr.write(f"error: interrupted by {signal.Signals(signum).name}\n")
    raise SystemExit(128 + signum)


def run() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):  # SIGTERM last: once it is caught, both are
        signal.signal(signum, _stopped)
    from staktrakr.cli import main

    main()


if __name__ == "__main__":
    run()
