"""Real Jupyter kernels (ipykernel, driven by jupyter_client) for tests.

Each kernel is the test venv's own Python running ``ipykernel_launcher``,
with the environment the test gives it (PODAUTH_SOCK above all) and its
own IPython and Jupyter directories. :func:`run_together` sends code to
several kernels at once and collects every message each one sends back,
so that a test sees exactly what a notebook would display.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager


@dataclass
class Execution:
    """What one kernel sent back for one cell."""

    kernel: int
    messages: list[dict[str, Any]] = field(default_factory=list)
    stdout: str = ""
    error: str | None = None
    done: bool = False

    def displays(self) -> list[dict[str, Any]]:
        """display_data and update_display_data messages, in order."""
        kinds = ("display_data", "update_display_data")
        return [m for m in self.messages if m["msg_type"] in kinds]


class Kernel:
    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        kernel_env = dict(os.environ)
        kernel_env.update(env)
        kernel_env.update(
            IPYTHONDIR=str(directory / "ipython"),
            JUPYTER_RUNTIME_DIR=str(directory / "runtime"),
            JUPYTER_DATA_DIR=str(directory / "data"),
            JUPYTER_CONFIG_DIR=str(directory / "config"),
        )
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(env=kernel_env, cwd=str(directory))
        self.client = self.manager.client()
        self.client.start_channels()

    def wait_ready(self, timeout: float = 60) -> None:
        self.client.wait_for_ready(timeout=timeout)

    def close(self) -> None:
        try:
            self.client.stop_channels()
        finally:
            self.manager.shutdown_kernel(now=True)


def run_together(
    kernels: list[Kernel],
    code: list[str],
    on_message: Callable[[int, dict[str, Any]], None],
    timeout: float,
) -> list[Execution]:
    """Executes ``code[i]`` in ``kernels[i]``, all sent before any answer is
    read; calls ``on_message(i, msg)`` for each iopub message as it comes.
    Returns when every cell finished (status idle), or raises on timeout."""
    ids = [k.client.execute(c, store_history=False) for k, c in zip(kernels, code, strict=True)]
    runs = [Execution(i) for i in range(len(kernels))]
    deadline = time.monotonic() + timeout
    while not all(run.done for run in runs):
        if time.monotonic() > deadline:
            raise TimeoutError(f"kernels still busy after {timeout:.0f} s: {runs}")
        for i, kernel in enumerate(kernels):
            if runs[i].done:
                continue
            try:
                msg = kernel.client.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != ids[i]:
                continue
            _record(runs[i], msg)
            on_message(i, msg)
    return runs


def _record(run: Execution, msg: dict[str, Any]) -> None:
    kind, content = msg["msg_type"], msg["content"]
    run.messages.append(msg)
    if kind == "stream" and content.get("name") == "stdout":
        run.stdout += content["text"]
    elif kind == "error":
        run.error = "\n".join(content.get("traceback", [])) or content.get("evalue")
    elif kind == "status" and content.get("execution_state") == "idle":
        run.done = True
