"""Time-to-first-step of a .pde file, split into its parts (run in a fresh process):

    python -m bench.first_step examples/burgers.pde

dsl (parse + check), compiler (IR + lowering, before XLA), sampling, and the first
jitted value-and-gradient of the whole loss (tracing + XLA compilation + one run)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def measure(path):
    t0 = time.perf_counter()
    import jax
    import pdeforge
    from pdeforge.api import check_text
    from pdeforge.compiler import Lowered, build_ir
    t_import = time.perf_counter() - t0
    text = Path(path).read_text()
    t1 = time.perf_counter()
    checked = check_text(text, str(path))
    t_dsl = time.perf_counter() - t1
    t2 = time.perf_counter()
    Lowered(build_ir(checked))
    t_compiler = time.perf_counter() - t2
    t3 = time.perf_counter()
    prob = pdeforge.load(path)               # the whole front door, as `pdeforge run` does it
    t_load = time.perf_counter() - t3
    t4 = time.perf_counter()
    params = prob.init(jax.random.PRNGKey(0))
    batch = prob.sample(0)
    t_sample = time.perf_counter() - t4
    t5 = time.perf_counter()
    jax.block_until_ready(jax.jit(jax.value_and_grad(prob.loss))(params, batch))
    t_first = time.perf_counter() - t5
    return {"file": str(path), "import_s": round(t_import, 3), "dsl_s": round(t_dsl, 3),
            "compiler_s": round(t_compiler, 3), "load_s": round(t_load, 3), "init_and_sample_s": round(t_sample, 3),
            "trace_xla_first_step_s": round(t_first, 3),
            "time_to_first_step_s": round(t_load + t_sample + t_first, 3)}


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1] if len(sys.argv) > 1 else "examples/burgers.pde"), indent=2))
