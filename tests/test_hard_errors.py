"""Contradictory or unsupported hard forms are compile errors naming both statements:
corner mismatches, an initial rate against a moving wall, non-affine or higher-order
conditions, infeasible or non-linear constraints."""
from hard_cases import BASE
from hard_common import _err


def test_corner_mismatch_names_both_conditions():
    e = _err(BASE + "condition ic: u = 1 on t = 0 hard\ncondition bc: u = 0 on x = 0 hard\n")
    d = e.diagnostics[0]
    assert d.code == "E326" and "`ic`" in d.message and "`bc`" in d.message
    assert d.related and d.related[0][0].line != d.span.line


def test_initial_rate_mismatch_with_moving_wall():
    text = BASE.replace("dt(u) = d(u, x, 2)", "d(u, t, 2) = d(u, x, 2)")
    e = _err(text + "condition ic: u = 0 on t = 0 hard\ncondition rate: dt(u) = 0 on t = 0 hard\n"
             "condition bc: u = t on x = 0 hard\n")
    assert e.codes == ["E326"]


def test_unsupported_and_contradictory_forms():
    ok = BASE + "condition: u = 0 on t = 0\n"
    assert _err(ok + "condition: d(u, x, 3) = 0 on x = 0 hard\n").codes == ["E324"]          # third order
    assert _err(ok + "condition: u * u = 1 on x = 0 hard\n").codes == ["E323"]
    e = _err(ok + "condition a: u = 0 on x = 0 hard\ncondition b: u = 1 on x = 0 hard\n")
    assert e.codes == ["E325"] and e.diagnostics[0].related
    e = _err(ok + "constraint lo: u >= 1 hard\nconstraint hi: u <= 0 hard\n")
    assert e.codes == ["E333"] and e.diagnostics[0].related
    e = _err(ok + "constraint: u + v = 0 hard\nconstraint: 2 * u + 2 * v = 1 hard\n")
    assert e.codes == ["E333"]
    assert _err(ok + "constraint: u * v = 1 hard\n").codes == ["E329"]
    assert _err(ok + "constraint: u + v = 1, u - v = 0, 2 * u = 1 hard\n").codes == ["E330"]
    assert _err(ok + "constraint: u >= 0 hard(method = sigmoid)\n").codes == ["E330"]
    assert _err(ok + "constraint: u > 0 hard\n").codes == ["E322"]
    assert _err(ok + "constraint: u >= 0 hard(method = relu)\n").codes == ["E143"]
    assert _err(ok + "equation: u = v hard\n").codes == ["E303"]
    assert _err(ok + "equation: div(u) = 0 hard\n").codes == ["E303"]       # 1-D: no stream function
