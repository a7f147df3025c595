"""``python -m helmkit.sandbox``: serve sandbox clusters in the foreground until SIGTERM or Ctrl-C.

    python -m helmkit.sandbox --cluster dev-1 --cluster dev-2 [--state-file F] [--info-file F]
                              [--kubeconfig PATH] [--context CLUSTER=CONTEXT ...] [--port CLUSTER=PORT ...]

The info file (JSON, mode 0600: URLs, tokens, admin endpoint, pid) is written once every
cluster listens and removed on exit; the state file keeps the objects across restarts.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from helmkit.sandbox.fleet import Sandbox
from helmkit.sandbox.persistence import write_private


def _pairs(values: list[str], what: str) -> dict[str, str]:
    result = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key or not item:
            raise SystemExit(f"error: {what} must look like CLUSTER=VALUE, got {value!r}")
        result[key] = item
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helmkit.sandbox", description=__doc__.split("\n")[0])
    parser.add_argument("--cluster", action="append", default=[], help="a cluster to serve (repeatable)")
    parser.add_argument("--state-file", type=Path, help="keep objects across restarts in this file")
    parser.add_argument("--info-file", type=Path, help="write URLs and tokens here once listening (mode 0600)")
    parser.add_argument("--kubeconfig", type=Path, help="write a kubeconfig for the clusters here (mode 0600)")
    parser.add_argument("--context", action="append", default=[], help="CLUSTER=CONTEXT name in the kubeconfig")
    parser.add_argument("--port", action="append", default=[], help="CLUSTER=PORT to listen on")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--verbose", action="store_true", help="log unhandled routes and errors")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    ports = {k: int(v) for k, v in _pairs(args.port, "--port").items()}
    contexts = _pairs(args.context, "--context")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sandbox = Sandbox(args.cluster, state_file=args.state_file, host=args.host, ports=ports)
    try:
        sandbox.start()
    except (OSError, ValueError) as exc:
        print(f"error: cannot start the sandbox: {exc}", file=sys.stderr)
        return 1
    try:
        if args.kubeconfig:
            sandbox.write_kubeconfig(args.kubeconfig, {c: contexts.get(c, c) for c in sandbox.clusters})
        if args.info_file:
            write_private(args.info_file, json.dumps(sandbox.info(), indent=2).encode())
        print("sandbox serving: " + ", ".join(f"{c} at {sandbox.url(c)}" for c in sandbox.clusters), flush=True)
        stop.wait()
    finally:
        sandbox.stop()
        if args.info_file:
            args.info_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
