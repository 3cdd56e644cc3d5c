"""Progress on the terminal: a live line on a TTY, plain lines otherwise, JSON
lines for scripts, or nothing."""
from __future__ import annotations

import json
import sys
import time

__all__ = ["fmt_time", "Progress"]


def fmt_time(s):
    s = int(max(0, s))
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


class Progress:
    def __init__(self, total: int, mode: str = "auto", stream=None):
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "live" if getattr(self.stream, "isatty", lambda: False)() else "lines"
        self.mode, self.total, self.t0 = mode, max(1, total), time.perf_counter()
        self._live = False

    def update(self, rec: dict):
        if self.mode == "quiet":
            return
        if self.mode == "json":
            print(json.dumps(rec), file=self.stream, flush=True)
            return
        el = time.perf_counter() - self.t0
        done = rec["step"]
        rate = rec.get("steps_per_s") or (done / el if el > 0 else 0)
        eta = (self.total - done) / rate if rate > 0 else 0
        terms = "  ".join(f"{k} {v:.2e}" for k, v in rec["terms"].items())
        err = f"  err {rec['error']:.3e}" if rec.get("error") is not None else ""
        if rec.get("params"):      # learned scalars of an inverse problem
            err += "  " + " ".join(f"{k} {v:.5g}" for k, v in rec["params"].items())
        line = (f"step {done:>{len(str(self.total))}}/{self.total}  {rec['stage']:<5}  loss {rec['loss']:.3e}  "
                f"[{terms}]{err}  {rate:,.0f} it/s  ETA {fmt_time(eta)}")
        if self.mode == "live":
            print("\r\033[K" + line, end="", file=self.stream, flush=True)
            self._live = True
        else:
            print(line, file=self.stream, flush=True)

    def message(self, text: str, always: bool = False):
        """`always`: errors are shown even in quiet mode."""
        if self.mode == "quiet" and not always:
            return
        if self.mode == "json":
            print(json.dumps({"message": text}), file=self.stream, flush=True)
            return
        if self.mode == "quiet":
            print(text, file=self.stream, flush=True)
            return
        self.close()
        print(text, file=self.stream, flush=True)

    def close(self):
        if self._live:
            print(file=self.stream, flush=True)
            self._live = False
