"""Headless Chromium for the explorer test: found on PATH, or installed from Debian (root + apt)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome")


class BrowserUnavailable(RuntimeError):
    """No headless browser here; the message says why (the test skips with it)."""


def find_chromium() -> str:
    for name in NAMES:
        if path := shutil.which(name):
            return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BrowserUnavailable("no chromium on PATH, and installing Debian's `chromium` needs root and apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise BrowserUnavailable(f"`{' '.join(cmd)}` failed: {proc.stderr.strip()[-500:]}")
    return shutil.which("chromium") or "chromium"


def _run(browser: str, *args: str) -> str:
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--virtual-time-budget=15000", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr[-1000:]}")
    return proc.stdout


def dom(browser: str, url: str) -> str:
    """The page's DOM after its scripts ran (virtual time lets the data files load)."""
    return _run(browser, "--dump-dom", url)


def screenshot(browser: str, url: str, out: Path, size: str = "1300,1000") -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    _run(browser, f"--screenshot={out}", f"--window-size={size}", url)
    return out
