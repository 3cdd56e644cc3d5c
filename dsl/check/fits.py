"""A condition `at DATA` (a fit to observations), for pass `conditions`: reads
`State.data` and `State.fields`, appends (Condition, data name, noise σ or None) to
`State.fits`. The fit's sides may read the observations' value columns (`DATA.u`)."""
from __future__ import annotations

import math

from ..diagnostics import did_you_mean
from .expressions import Walker


def fit(st, s):
    d, ce = st.diag, st.ce
    if s.data not in st.data:
        if s.data not in st.poisoned:
            d.error("E101", f"`{s.data}` is not a set of observations", s.data_span,
                    hint=did_you_mean(s.data, st.data) or f'declare it: `data {s.data} from "FILE" columns (...)`')
        return
    if s.hard is not None:
        d.error("E308", "a fit to observations cannot be `hard`: measured values carry noise, so they are fitted, "
                        "not imposed", s.hard.span, hint="remove `hard`; give `noise = SIGMA` to weigh the fit")
    walker = Walker(st, fit_data=s.data)
    fs = set()
    for side in (s.lhs, s.rhs):
        fs |= walker.walk(side, "fit", None, {}, None)
    noise = None
    for k in s.options:
        if k.name != "noise":
            d.error("E130", f"a fit has no option `{k.name}`", k.span,
                    hint=did_you_mean(k.name, ["noise"]) or "its option: noise")
            continue
        v = ce(k.value, "a noise level")
        if v is not None and not (v > 0 and math.isfinite(v)):
            d.error("E209", "a noise level must be a finite number > 0", k.value.span)
        elif v is not None:
            noise = v
    # the fit is evaluated at the observation points: every coordinate its fields depend on must be a column
    have = {c.name for c in st.data[s.data].columns}
    for f in sorted(fs):
        missing = [a for a in st.fields[f].args if a not in have]
        if missing:
            d.error("E311", f"`{f}` depends on `{missing[0]}`, but the observations `{s.data}` give no column for it",
                    s.data_span, hint=f"add `{missing[0]}` to the columns of `{s.data}`")
    st.fits.append((s, s.data, noise))
