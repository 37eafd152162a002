"""Showing the user what to do while a proof or login waits on them.

In a Jupyter kernel the actions appear as one output that is updated in
place as events stream in: a clickable link, the user code to confirm and,
for device code, a QR code of the link; then the outcome. Anywhere else
they are printed as lines on stderr.

Nothing from IPython or Jupyter is imported unless it already is: a
process without IPython loaded is not a notebook, so the package never
pulls Jupyter in.
"""

from __future__ import annotations

import html
import sys
from collections.abc import Callable
from typing import Protocol

from .proofs import UserAction


class ActionView(Protocol):
    """Receives one request's progress."""

    def action(self, action: UserAction) -> None: ...
    def proof(self, pod_id: str) -> None: ...
    def finish(self, error: BaseException | None) -> None: ...


def view_for(title: str, on_action: Callable[[UserAction], None] | None) -> ActionView:
    """The view for one request: the caller's callback when given, else a
    notebook output inside a Jupyter kernel, else lines on stderr."""
    if on_action is not None:
        return CallbackView(on_action)
    if in_notebook():
        return NotebookView(title)
    return TerminalView()


def in_notebook() -> bool:
    """True inside a Jupyter kernel (an IPython shell with a kernel)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class CallbackView:
    """Hands each user action to a function and shows nothing."""

    def __init__(self, callback: Callable[[UserAction], None]) -> None:
        self._callback = callback

    def action(self, action: UserAction) -> None:
        self._callback(action)

    def proof(self, pod_id: str) -> None:
        pass

    def finish(self, error: BaseException | None) -> None:
        pass


class TerminalView:
    """Prints each user action as a line on stderr."""

    def action(self, action: UserAction) -> None:
        print(f"podauth: {describe(action)}", file=sys.stderr, flush=True)

    def proof(self, pod_id: str) -> None:
        pass

    def finish(self, error: BaseException | None) -> None:
        pass


class NotebookView:
    """One notebook output, created at the first action and updated in
    place on every later event."""

    def __init__(self, title: str) -> None:
        self._title = title
        self._actions: list[UserAction] = []
        self._proved: list[str] = []
        self._outcome: str | None = None
        self._failed = False
        self._handle = None

    def action(self, action: UserAction) -> None:
        self._actions.append(action)
        self._show()

    def proof(self, pod_id: str) -> None:
        self._proved.append(pod_id)
        if self._handle is not None:
            self._show()

    def finish(self, error: BaseException | None) -> None:
        if self._handle is None:
            return
        if error is None:
            # A device code proof is handed out before the user confirms:
            # the code stays on screen until they have.
            codes = any(action.user_code for action in self._actions)
            self._outcome = "done: confirm each code above in the browser" if codes else "done"
        else:
            self._failed = True
            self._outcome = f"failed: {str(error) or type(error).__name__}"
        self._show()

    def _show(self) -> None:
        from IPython.display import display  # already imported: we are in a kernel

        bundle = {"text/plain": self._text(), "text/html": self._html()}
        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)

    def _text(self) -> str:
        lines = [f"podauth {self._title}:"]
        lines += [f"  {describe(action)}" for action in self._actions]
        if self._proved:
            lines.append(f"  proofs ready for {', '.join(self._proved)}")
        if self._outcome:
            lines.append(f"  {self._outcome}")
        return "\n".join(lines)

    def _html(self) -> str:
        esc = html.escape
        done = self._outcome is not None and not self._failed
        parts = [
            '<div class="podauth-actions" style="font-family: sans-serif">',
            f"<b>podauth {esc(self._title)}</b>",
        ]
        for action in self._actions:
            link = (
                f'<a href="{esc(action.url)}" target="_blank" rel="noopener">{esc(action.url)}</a>'
            )
            pods = esc(", ".join(action.pod_ids))
            if action.user_code:
                parts.append(
                    f'<div class="podauth-action">Open {link} and confirm the code '
                    f'<code class="podauth-user-code" style="font-size: 1.5em">'
                    f"{esc(action.user_code)}</code> (Pods: {pods}){_qr(action.url)}</div>"
                )
            elif not done:
                parts.append(
                    f'<div class="podauth-action">Sign in at {link} '
                    f"(one visit answers Pods: {pods})</div>"
                )
        if self._proved:
            proved = esc(", ".join(self._proved))
            parts.append(f'<div class="podauth-proved">Proofs ready for {proved}</div>')
        if self._outcome:
            colour = "#b00020" if self._failed else "#1b5e20"
            parts.append(
                f'<div class="podauth-outcome" style="color: {colour}">'
                f"{esc(self._outcome.capitalize())}</div>"
            )
        parts.append("</div>")
        return "\n".join(parts)


def describe(action: UserAction) -> str:
    """One line telling the user what to do."""
    pods = ", ".join(action.pod_ids)
    opened = " (opened in your browser)" if action.browser_opened else ""
    if action.user_code:
        return f"open {action.url} and confirm the code {action.user_code}{opened} (Pods: {pods})"
    return f"sign in at {action.url}{opened} (one visit answers Pods: {pods})"


def _qr(url: str) -> str:
    """A QR code of ``url`` as an inline image, or "" without segno."""
    try:
        import segno
    except ImportError:
        return ""
    uri = segno.make(url, error="m").svg_data_uri(scale=3)
    return f'<br><img class="podauth-qr" alt="QR code of the link" src="{uri}">'
