"""Drive a headless Chromium over the DevTools protocol, to check and time the HTML replay.

The browser is the distribution's ``chromium`` package. It is started with
``--remote-debugging-pipe``: the protocol's JSON messages (each ended by a NUL byte) travel
over two pipes on file descriptors 3 (to the browser) and 4 (from it), so no port is opened
and no WebSocket client library is needed. :class:`Chromium` opens a page, evaluates
JavaScript, takes PNG screenshots and collects every JavaScript exception and console error
the page logs. The test suite and ``benchmarks/bench_animate.py`` use it; nothing in a run
does.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["CHROMIUM_FLAGS", "BrowserError", "Chromium", "find_chromium", "start_chromium"]

CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
)
"""Flags every session starts with (plus a fresh ``--user-data-dir``)."""


class BrowserError(RuntimeError):
    """The browser could not be started, died, or a protocol call failed or timed out."""


def find_chromium() -> str | None:
    """Path of the Chromium executable, or None when none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """One headless Chromium with one page; use as a context manager.

    Attributes:
        errors: JavaScript exceptions and console/log errors seen so far (one line each).
    """

    def __init__(self, executable: str | None = None, *, width: int = 1280, height: int = 800,
                 timeout_s: float = 60.0) -> None:
        """Start the browser and open a blank page of ``width`` x ``height`` CSS pixels.

        Args:
            executable: Chromium binary (default: :func:`find_chromium`).
            width, height: Viewport size.
            timeout_s: Longest wait for any one protocol answer.

        Raises:
            BrowserError: No Chromium, or it did not start.
        """
        exe = executable or find_chromium()
        if exe is None:
            raise BrowserError("chromium is not installed (Debian: apt-get install chromium)")
        self.timeout_s = timeout_s
        self.errors: list[str] = []
        self._events: list[dict[str, Any]] = []
        self._buf = b""
        self._next_id = 0
        self._profile = tempfile.mkdtemp(prefix="uavtwin-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire() -> None:  # in the child: the protocol pipes become fds 3 and 4
            a, b = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}",
                "--remote-debugging-pipe", f"--window-size={width},{height}", "about:blank"]
        self._log = open(os.path.join(self._profile, "stderr.log"), "wb")  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=self._log,
                                          preexec_fn=wire, close_fds=False)
        finally:
            os.close(to_browser_r)
            os.close(from_browser_w)
        try:
            targets = self._call("Target.getTargets")["targetInfos"]
            page = next((t for t in targets if t["type"] == "page"), None)
            target = page["targetId"] if page else \
                self._call("Target.createTarget", url="about:blank")["targetId"]
            self._session = self._call("Target.attachToTarget", targetId=target,
                                       flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                self.call(f"{domain}.enable")
            self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                      deviceScaleFactor=1, mobile=False)
        except BaseException:
            self.close()
            raise

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the browser and remove its profile (idempotent)."""
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            try:
                self._send({"id": -1, "method": "Browser.close"})
            except (OSError, BrowserError):
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if getattr(self, "_log", None) is not None:
            self._log.close()
        for fd in ("_to_browser", "_from_browser"):
            if getattr(self, fd, None) is not None:
                os.close(getattr(self, fd))
                setattr(self, fd, None)
        shutil.rmtree(self._profile, ignore_errors=True)

    # -- protocol ----------------------------------------------------------------------------
    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a DevTools method on the page and return its result.

        Args:
            method: e.g. ``"Page.navigate"``.
            **params: The method's parameters.

        Returns:
            The ``result`` object.

        Raises:
            BrowserError: The call failed or timed out.
        """
        return self._call(method, _session=self._session, **params)

    def open(self, path: str | os.PathLike[str]) -> None:
        """Load a local file and wait for its load event.

        Args:
            path: The HTML file.
        """
        self._events.clear()
        self.call("Page.navigate", url=Path(path).resolve().as_uri())
        self._wait_event("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page (promises are awaited) and return its value.

        Args:
            expression: JavaScript source.

        Returns:
            The JSON value of the result.

        Raises:
            BrowserError: The expression threw.
        """
        res = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                        awaitPromise=True)
        if "exceptionDetails" in res:
            detail = res["exceptionDetails"]
            text = detail.get("exception", {}).get("description") or detail.get("text")
            raise BrowserError(f"JavaScript error in {expression[:60]!r}: {text}")
        return res["result"].get("value")

    def screenshot(self, path: str | os.PathLike[str] | None = None) -> bytes:
        """Capture the viewport as PNG.

        Args:
            path: Also write the PNG here.

        Returns:
            The PNG bytes.
        """
        self.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        png = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        if path is not None:
            Path(path).write_bytes(png)
        return png

    # -- internals -------------------------------------------------------------------------
    def _send(self, msg: dict[str, Any]) -> None:
        data = json.dumps(msg).encode() + b"\0"
        while data:
            try:
                n = os.write(self._to_browser, data)
            except BrokenPipeError:
                raise BrowserError(f"chromium exited before {msg.get('method')}: "
                                   f"{self._stderr_tail()}") from None
            data = data[n:]

    def _stderr_tail(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_bytes().decode(errors="replace")[-800:]

    def _call(self, method: str, _session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if _session is not None:
            msg["sessionId"] = _session
        self._send(msg)
        want = self._next_id
        deadline = time.monotonic() + self.timeout_s
        while True:
            m = self._receive(deadline, method)
            if m.get("id") == want:
                if "error" in m:
                    raise BrowserError(f"{method}: {m['error'].get('message')}")
                return m.get("result", {})

    def _wait_event(self, name: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout_s
        for i, ev in enumerate(self._events):
            if ev["method"] == name:
                return self._events.pop(i)
        while True:
            m = self._receive(deadline, name)
            if m.get("method") == name:
                return m

    def _receive(self, deadline: float, what: str) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"timed out waiting for {what}")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise BrowserError(f"chromium exited while waiting for {what}: "
                                   f"{self._stderr_tail()}")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        m = json.loads(raw)
        if "method" in m:
            self._note(m)
        return m

    def _note(self, m: dict[str, Any]) -> None:
        self._events.append(m)
        p = m.get("params", {})
        if m["method"] == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.errors.append(d.get("exception", {}).get("description") or d.get("text", ""))
        elif m["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                        for a in p.get("args", [])))
        elif m["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            self.errors.append(p["entry"].get("text", ""))


def start_chromium(executable: str | None = None, *, attempts: int = 3,
                   **kwargs: Any) -> Chromium:
    """Start :class:`Chromium`, retrying when a start fails (a busy machine can kill one).

    Args:
        executable: Chromium binary (default: :func:`find_chromium`).
        attempts: Starts tried before giving up.
        **kwargs: Passed to :class:`Chromium`.

    Returns:
        The started browser.

    Raises:
        BrowserError: Every attempt failed (the last error).
    """
    for attempt in range(1, attempts + 1):
        try:
            return Chromium(executable, **kwargs)
        except BrowserError:
            if attempt == attempts:
                raise
            time.sleep(1.0)
    raise AssertionError("unreachable")
