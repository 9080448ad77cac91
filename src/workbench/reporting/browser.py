"""Headless Chromium (无头浏览器): print reports to PDF, take screenshots, read the DOM.

Leadership reads the monthly report as a PDF, and tests need to see what a browser
really draws (Chinese glyphs, not empty boxes). Both use Debian's ``chromium`` headless,
run the way a locked-down server needs it:

- as root Chromium refuses to start without ``--no-sandbox``;
- every run gets its own temporary profile (``--user-data-dir``), so runs never share
  state or lock each other out, and the profile is removed afterwards;
- no network: background services, component updates and sync are off and every host
  name resolves to nothing (``--host-resolver-rules``), so a report that works here
  works on an offline machine;
- a timeout kills the whole process group (Chromium starts several helpers).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from workbench.errors import WorkbenchError

log = logging.getLogger(__name__)

#: Command names tried in order (Debian: chromium; Ubuntu and others: chromium-browser).
CANDIDATES = ("chromium", "chromium-browser")

#: Seconds one Chromium run may take before it is killed (a cold start on a busy
#: 2-core machine takes a few seconds; printing the report ~2 s).
DEFAULT_TIMEOUT = 60.0

INSTALL_HINT = "apt-get install -y chromium fonts-noto-cjk (or ./run setup, which installs both)"


class BrowserError(WorkbenchError, RuntimeError):
    """Chromium failed, timed out or wrote nothing."""


class BrowserNotFound(BrowserError):
    """No Chromium on this machine (the message says how to install it)."""


def find_chromium() -> Path:
    """The Chromium executable: ``$WORKBENCH_CHROMIUM``, else ``chromium``/``chromium-browser``.

    Raises:
        BrowserNotFound: naming what was looked for and the command that installs it.
    """
    override = os.environ.get("WORKBENCH_CHROMIUM")
    if override:
        path = shutil.which(override)
        if path is None:
            raise BrowserNotFound(
                f"WORKBENCH_CHROMIUM is {override!r}, which is not an executable; "
                f"unset it or install Chromium: {INSTALL_HINT}"
            )
        return Path(path)
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return Path(path)
    raise BrowserNotFound(
        "headless Chromium is needed to print the leadership report to PDF and to check "
        f"that it renders, but none of {', '.join(CANDIDATES)} is on PATH; "
        f"install it: {INSTALL_HINT}"
    )


def _base_flags(profile: Path) -> list[str]:
    flags = [
        "--headless",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-breakpad",
        "--no-first-run",
        "--no-default-browser-check",
        "--mute-audio",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        flags.insert(1, "--no-sandbox")
    return flags


def _stderr_tail(stderr: str, lines: int = 8) -> str:
    """The last lines of Chromium's stderr without the D-Bus noise of a server."""
    kept = [
        line
        for line in stderr.splitlines()
        if line.strip() and "dbus" not in line and "unexpected operator" not in line
    ]
    return "\n".join(kept[-lines:])


def _run(
    args: list[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run Chromium with ``args`` after the base flags; kill its process group on timeout."""
    exe = find_chromium()
    profile = Path(tempfile.mkdtemp(prefix="workbench-chromium-"))
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    cmd = [str(exe), *_base_flags(profile), *args]
    log.debug("chromium: %s", " ".join(cmd))
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=full_env,
        start_new_session=True,
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise BrowserError(
            f"Chromium did not finish within {timeout:g} s ({args[-1]}); "
            "the machine may be overloaded — retry or raise the timeout"
        ) from None
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # helpers that outlived the browser
        shutil.rmtree(profile, ignore_errors=True)
    if proc.returncode != 0:
        raise BrowserError(
            f"Chromium exited with code {proc.returncode} on {args[-1]}:\n{_stderr_tail(stderr)}"
        )
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)


def _page_url(html: str | Path) -> str:
    path = Path(html).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no such page to render: {path}")
    return path.as_uri()


def _check_written(out: Path, what: str, result: subprocess.CompletedProcess[str]) -> Path:
    if not out.is_file() or out.stat().st_size == 0:
        raise BrowserError(f"Chromium wrote no {what} to {out}:\n{_stderr_tail(result.stderr)}")
    return out


def print_pdf(
    html: str | Path,
    pdf: str | Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Print a local HTML file to PDF (the page's own ``@page`` CSS sets size and margins)."""
    pdf = Path(pdf).resolve()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    pdf.unlink(missing_ok=True)
    result = _run(
        ["--no-pdf-header-footer", f"--print-to-pdf={pdf}", _page_url(html)],
        timeout=timeout,
        env=env,
    )
    return _check_written(pdf, "PDF", result)


def screenshot(
    html: str | Path,
    png: str | Path,
    *,
    width: int = 1280,
    height: int = 1600,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Screenshot the top ``width`` × ``height`` pixels of a local HTML file as PNG.

    ``env`` adds environment variables for this run only, e.g. ``FONTCONFIG_FILE`` to
    render with a restricted set of fonts.
    """
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    png.unlink(missing_ok=True)
    result = _run(
        [f"--window-size={width},{height}", f"--screenshot={png}", _page_url(html)],
        timeout=timeout,
        env=env,
    )
    return _check_written(png, "screenshot", result)


def dump_dom(
    html: str | Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
) -> str:
    """The DOM of a local HTML file after Chromium has parsed it, serialised as HTML."""
    result = _run(["--dump-dom", _page_url(html)], timeout=timeout, env=env)
    if "<html" not in result.stdout.lower():
        raise BrowserError(f"Chromium printed no DOM for {html}:\n{_stderr_tail(result.stderr)}")
    return result.stdout
