"""`python -m takt.core.probe HOST PORT`: exit 0 if something accepts TCP there (used by make)."""

from __future__ import annotations

import socket
import sys


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(0 if answers(sys.argv[1], int(sys.argv[2])) else 1)
