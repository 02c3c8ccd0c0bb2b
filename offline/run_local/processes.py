"""Small helpers for the local stand-ins that run as processes of their own."""

from __future__ import annotations

import socket
import subprocess


def stop_process(process: subprocess.Popen[bytes] | subprocess.Popen[str] | None) -> None:
    """Terminate, then kill if it does not exit within 10 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
