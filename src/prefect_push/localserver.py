"""A real local Prefect server (SQLite in a temp PREFECT_HOME) for the demo and the tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prefect_env(home: str, api_url: str | None = None) -> dict[str, str]:
    """The variables that point Prefect at a home (and a server): merge them into an environment."""
    env = {"PREFECT_HOME": home, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


@dataclass
class LocalServer:
    home: str
    url: str
    process: subprocess.Popen
    log: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def env(self) -> dict[str, str]:
        return prefect_env(self.home, self.url)


def start(home: str | None = None, timeout: float = 120.0, port: int | None = None) -> LocalServer:
    home = home or tempfile.mkdtemp(prefix="prefect-push-server-")
    os.makedirs(home, exist_ok=True)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}/api"
    log = os.path.join(home, "server.log")
    env = {**os.environ, **prefect_env(home)}
    env.pop("PREFECT_API_URL", None)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
    server = LocalServer(home, url, process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            with open(log, errors="replace") as f:
                tail = f.read()[-2000:]
            raise RuntimeError(f"prefect server exited with {process.returncode}; its log ends:\n{tail}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                if resp.status == 200:
                    return server
        except OSError:
            pass
        time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"prefect server did not answer on {url} within {timeout:.0f}s (log: {log})")
