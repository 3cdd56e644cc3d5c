"""Name resolution and static checks: AST → `Checked` program, or diagnostics.

The checker is a list of passes over the parsed program (`PASSES`, run in order by
`check`); each reads the `State` fields earlier passes filled and fills its own (each
pass's module docstring says which). Independent errors are all collected and reported
together; after the last pass the driver builds the frozen `Checked` or raises."""
from __future__ import annotations

from .. import ast as A
from . import conditions, constants, domains, equations, fields, models, names, operators, solutions, train, wellposed
from .consteval import ConstEval
from .result import Checked, Coord, Face, InputFn, Piece
from .state import State

__all__ = ["check", "Checked", "Coord", "Face", "InputFn", "Piece", "ConstEval", "State", "PASSES"]

# The order is the order of dependence, and also the order diagnostics are reported in:
# constants fold the intervals of domains; the coordinates are what fields, parameters and
# data depend on; input functions are declared before fields (one namespace), and what
# depends on them (`given`, `grid`, `pairs`) is read once fields are known; parameters and
# data must be known before any expression is walked (a parameter field is a field,
# `DATA.u` a column); equations, conditions and exact solutions
# walk expressions against all of these; models need the architectures and every field
# (parameter fields included); the train recipe's weights name the statements' labels;
# well-posedness counts what the others built, and runs only on a program with no errors.
PASSES = [
    names.problem,
    names.architectures,
    constants.constants,
    domains.domains,
    operators.inputs,
    fields.fields,
    fields.params,
    fields.data,
    operators.operators,
    equations.equations,
    conditions.conditions,
    solutions.exact,
    models.models,
    solutions.references,
    train.train,
    wellposed.wellposed,
]


def check(program: A.Program, library=()) -> Checked:
    """Resolve names and check `program`; `library` holds programs of stdlib modules."""
    st = State(program, library)
    for run in PASSES:
        run(st)
    p = program
    checked = Checked(program=p, name=st.name, coords=st.coords, consts=st.consts, const_exprs=st.const_exprs,
                      fields=st.fields, equations=p.of(A.Equation), conditions=st.conditions, periodic=st.periodic,
                      constraints=p.of(A.Constraint), exact=st.exact, models=p.of(A.Model), references=p.of(A.Reference),
                      architectures=st.archs, train=st.train, orders=st.orders, warnings=st.diag.warnings,
                      params=st.params, param_fields=st.param_fields, param_truth=st.param_truth, data=st.data,
                      fits=st.fits, geometry=st.geometry, inputs=st.inputs, grid=st.grid, given=st.given,
                      pairs=st.pairs)
    st.diag.raise_if_errors(p.file, p.source)
    return checked
