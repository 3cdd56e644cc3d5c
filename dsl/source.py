"""Reading a `.pde` file: the only way source text comes off disk (the CLI, `load`,
`use` modules). Checked before anything is read: the path names a regular file (a
FIFO or a device would block or never end) no larger than the parser accepts, so a
hostile path never makes us allocate or wait."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from .diagnostics import Diagnostic, PdeError, Span
from .parser import MAX_SOURCE_BYTES

__all__ = ["read_source"]


def read_source(path, span: Span | None = None) -> str:
    """The text of a `.pde` file.

    Args:
        path: the file (str or Path).
        span: where the path was written, for a `use` line; None for a file named on
            the command line or passed to `load`.
    Returns:
        The text, decoded as UTF-8 (undecodable bytes replaced: the parser reports
        where they are rather than failing on the first).
    Raises:
        PdeError: E402 when the path does not exist or is not a regular file, E005
        when the file is larger than MAX_SOURCE_BYTES.
    """
    p = Path(path)

    def fail(code, message, hint=None):
        # a file named on its own is the file the diagnostic is about
        return PdeError(Diagnostic(code, message, span, hint), None if span else str(path))
    try:
        st = os.stat(p)
    except OSError:
        raise fail("E402", f"no such file: {path}") from None
    if not stat.S_ISREG(st.st_mode):
        raise fail("E402", f"not a regular file: {path}", hint="name a .pde file")
    if st.st_size > MAX_SOURCE_BYTES:
        raise fail("E005", f"file is larger than {MAX_SOURCE_BYTES} bytes")
    return p.read_text(encoding="utf-8", errors="replace")
