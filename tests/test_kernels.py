"""The generated NumPy kernels: the sheet's exact numbers, independent references, shapes.

Independent checks: the sheet's exact SymPy values (homework numbers), central finite
differences and PyTorch autograd (``tests/reference_network.py``), naive convolution
loops over Fractions and brute-force start counting (``tests/reference_conv.py``).
Timings are not tested here: they belong to ``benchmarks/bench_kernels.py``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import reference_conv as rc
import reference_network as rn
import sympy as sp

from symderiv.derive import derive_sheet, parse_sheet
from symderiv.kernels import compile_kernels, render_kernels
from symderiv.model import Answer, Problem, Question, Sheet
from symderiv.spec import Fields

#: One network per case; together they use every activation and every loss.
CASES = [((3, 4, 3), ("relu", "softmax"), "cross_entropy"),
         ((2, 3, 2), ("tanh", "sigmoid"), "cross_entropy"),
         ((2, 4, 3, 2), ("leaky_relu", "sigmoid", "identity"), "mean_squared_error"),
         ((3, 2, 1), ("identity", "tanh"), "half_squared_error"),
         ((2, 3, 1), ("sigmoid", "relu"), "squared_error"),
         ((4, 5, 4, 3), ("relu", "leaky_relu", "softmax"), "cross_entropy")]


def _spec(widths, acts, loss, rng) -> dict:
    """A network spec with random two-decimal numbers (exact in the spec, quick to derive)."""
    def r(*shape):
        return np.round(rng.uniform(-1, 1, shape), 2).tolist()
    y = np.round(rng.uniform(0.1, 0.9, widths[-1]), 2).tolist() if loss == "cross_entropy" else r(widths[-1])
    layers = [{"W": r(widths[i + 1], widths[i]), "b": r(widths[i + 1]), "activation": a} for i, a in enumerate(acts)]
    return {"kind": "network", "x": r(widths[0]), "y": y, "loss": loss, "layer": layers}


@pytest.fixture(scope="module")
def random_sheet() -> Sheet:
    rng = np.random.default_rng(7)
    table = {"sheet": {"name": "random"}, "problem": [_spec(*case, rng) for case in CASES]}
    return derive_sheet(parse_sheet(Fields(table, "test"), "random"))


@pytest.fixture(scope="module")
def random_kernels(random_sheet) -> dict:
    return compile_kernels(random_sheet)


@pytest.fixture(scope="module")
def hw_kernels(homework1) -> dict:
    return compile_kernels(homework1)


def _rows(case: int, b: int, seed: int) -> dict[str, np.ndarray]:
    """B random rows of every input of network ``case`` (targets kept valid for the loss)."""
    widths, acts, loss = CASES[case]
    rng = np.random.default_rng(seed)
    out = (b, widths[-1])
    targets = rng.uniform(0.1, 0.9, out) if loss == "cross_entropy" else rng.standard_normal(out)
    p = {"x": rng.standard_normal((b, widths[0])), "y": targets}
    for l in range(1, len(widths)):
        p[f"W{l}"] = rng.standard_normal((b, widths[l], widths[l - 1]))
        p[f"b{l}"] = rng.standard_normal((b, widths[l]))
    return p


def _row(p: dict, i: int) -> dict:
    return {k: v[i] for k, v in p.items()}


# -- the sheet's numbers ----------------------------------------------------------------------

def test_default_call_reproduces_every_number_of_the_sheet(homework1, hw_kernels):
    """Every answer of Q1.1 and Q1.3, and every quantity of the solved graph, exactly."""
    got = hw_kernels["problem1_gradients"]()
    solved = homework1.problems[0].data
    for name, value in got.items():
        exact = solved.env[sp.Symbol("L")] if name == "L" else solved.value(name)
        assert np.array_equal(value, np.array(exact, dtype=float).reshape(value.shape)), name
    for answer in homework1.answers():
        if answer.id.startswith(("1.1.", "1.3.")) and isinstance(answer.value, (sp.MatrixBase, sp.Number)):
            name = "L" if answer.id == "1.1.loss" else answer.id.split(".")[-1]
            assert np.array_equal(got[name].reshape(-1), np.array(answer.value, dtype=float).reshape(-1)), answer.id


@pytest.mark.parametrize("convention", [0, 0.5, 1])
@pytest.mark.parametrize("method", ["scalar", "matrix"])
def test_relu_kink_follows_the_spec_convention(convention, method):
    """A pre-activation exactly 0: ReLU'(0) is the spec's relu_at_zero, as on the sheet."""
    spec = {"kind": "network", "x": [1, 2], "y": [3], "relu_at_zero": convention, "loss": "squared_error",
            "layer": [{"W": [[1, 0], [2, -1], [1, 1]], "b": [0, 0, -1], "activation": "relu"},
                      {"W": [[1, -2, 3]], "b": [1], "activation": "leaky_relu"}]}
    sheet = derive_sheet(parse_sheet(Fields({"problem": [spec]}, "t"), "kink"))
    got = compile_kernels(sheet)["problem1_gradients"](method=method)
    solved = sheet.problems[0].data
    assert got["a1"][1] == 0.0
    for name, value in got.items():
        exact = solved.env[sp.Symbol("L")] if name == "L" else solved.value(name)
        np.testing.assert_allclose(value, np.array(exact, dtype=float).reshape(value.shape), rtol=1e-15,
                                   err_msg=name)


def test_default_call_matches_the_naive_reference(hw_kernels):
    """The homework numbers through an independent forward pass and central differences."""
    params = {k: np.array(v, dtype=float) for k, v in
              {"x": [2, 1], "y": [10], "W1": [[1, 0], [3, 4], [1, 2]], "b1": [0, -2, 5],
               "W2": [[2, 6, 1], [0, 3, 1]], "b2": [-23, -11], "W3": [[-2, 3]], "b3": [18]}.items()}
    got = hw_kernels["problem1_gradients"](**params)
    acts = ["relu"] * 3
    assert got["L"] == pytest.approx(rn.forward(params, acts, "squared_error"))
    for name, g in rn.fd_gradients(params, acts, "squared_error").items():
        np.testing.assert_allclose(got[f"dL_d{name}"], g, rtol=1e-6, atol=1e-6)


# -- independent references on random networks ---------------------------------------------

@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("method", ["scalar", "matrix"])
def test_gradients_match_central_differences(random_kernels, case, method):
    widths, acts, loss = CASES[case]
    p = _rows(case, 3, seed=case)
    got = random_kernels[f"problem{case + 1}_gradients"](**p, method=method, chunk=2)
    for i in range(3):
        row = _row(p, i)
        assert got["L"][i] == pytest.approx(rn.forward(row, list(acts), loss), rel=1e-12)
        for name, g in rn.fd_gradients(row, list(acts), loss).items():
            np.testing.assert_allclose(got[f"dL_d{name}"][i], g, rtol=1e-5, atol=1e-6, err_msg=f"{name}, row {i}")


@pytest.mark.parametrize("case", range(len(CASES)))
def test_gradients_match_pytorch_autograd(random_kernels, case):
    pytest.importorskip("torch", reason="PyTorch is a peer, not a dependency: pip install -e '.[peers]'")
    widths, acts, loss = CASES[case]
    p = _rows(case, 4, seed=10 + case)
    got = random_kernels[f"problem{case + 1}_gradients"](**p)
    for i in range(4):
        for name, g in rn.torch_gradients(_row(p, i), list(acts), loss).items():
            np.testing.assert_allclose(got[f"dL_d{name}"][i], g, rtol=1e-10, atol=1e-12, err_msg=f"{name}, row {i}")


def test_larger_network_gets_matrix_code_only():
    """Past the scalar-code threshold only matrix code is written; auto runs it."""
    import symderiv.kinds.network.kernels as kn

    widths, acts = (12, 9, 2), ("tanh", "identity")
    assert sum(a * b + b for a, b in zip(widths, widths[1:])) > kn.SCALAR_MAX_PARAMETERS
    rng = np.random.default_rng(8)
    sheet = derive_sheet(parse_sheet(Fields({"problem": [_spec(widths, acts, "squared_error", rng)]}, "t"), "big"))
    k = compile_kernels(sheet)["problem1_gradients"]
    assert "_problem1_scalar" not in render_kernels(sheet)
    with pytest.raises(ValueError, match="too large for scalar code"):
        k(method="scalar")
    p = {"x": rng.standard_normal(12), "y": rng.standard_normal(2), "W1": rng.standard_normal((9, 12)),
         "b1": rng.standard_normal(9), "W2": rng.standard_normal((2, 9)), "b2": rng.standard_normal(2)}
    got = k(**p)
    for name, g in rn.fd_gradients(p, list(acts), "squared_error").items():
        np.testing.assert_allclose(got[f"dL_d{name}"], g, rtol=1e-5, atol=1e-6, err_msg=name)


def test_softmax_is_evaluated_stably(random_kernels):
    """Pre-activations of 10^4 would overflow exp(); the shifted softmax does not."""
    p = _rows(0, 2, seed=3)
    p["b2"] = p["b2"] + 1.0e4
    got = random_kernels["problem1_gradients"](**p)
    assert all(np.isfinite(v).all() for v in got.values())
    np.testing.assert_allclose(got["y_hat"].sum(axis=-1), 1.0)


def test_scalar_and_matrix_code_agree_everywhere(random_kernels):
    for case in range(len(CASES)):
        p = _rows(case, 50, seed=20 + case)
        k = random_kernels[f"problem{case + 1}_gradients"]
        scalar, matrix = k(**p, method="scalar", chunk=16), k(**p, method="matrix", chunk=16)
        assert scalar.keys() == matrix.keys()
        for name in scalar:
            np.testing.assert_allclose(scalar[name], matrix[name], rtol=1e-11, atol=1e-12, err_msg=name)


# -- batch shapes, broadcasting, options --------------------------------------------------------

def test_batch_of_inputs_gives_one_result_per_row(hw_kernels):
    k = hw_kernels["problem1_gradients"]
    X = np.random.default_rng(0).standard_normal((5, 2))
    got = k(x=X)
    assert got["dL_dW1"].shape == (5, 3, 2) and got["L"].shape == (5,) and got["dL_dx"].shape == (5, 2)
    for i in range(5):
        one = k(x=X[i])
        for name in got:
            assert np.array_equal(got[name][i], one[name]), name


@pytest.mark.parametrize("method", ["scalar", "matrix"])
def test_batch_of_weights_against_one_input(hw_kernels, method):
    k = hw_kernels["problem1_gradients"]
    W1 = np.random.default_rng(1).standard_normal((4, 3, 2))
    got = k(W1=W1, method=method)
    assert got["dL_dW1"].shape == (4, 3, 2) and got["a1"].shape == (4, 3)
    for i in range(4):
        np.testing.assert_allclose(got["dL_dW1"][i], k(W1=W1[i], method=method)["dL_dW1"], rtol=1e-15)


def test_leading_axes_broadcast_like_numpy(hw_kernels):
    k = hw_kernels["problem1_gradients"]
    rng = np.random.default_rng(2)
    X, W1 = rng.standard_normal((3, 1, 2)), rng.standard_normal((4, 3, 2))
    got = k(x=X, W1=W1)
    assert got["dL_db1"].shape == (3, 4, 3) and got["L"].shape == (3, 4)
    assert np.array_equal(got["dL_dW2"][2, 3], k(x=X[2, 0], W1=W1[3])["dL_dW2"])


def test_reduce_sums_the_gradient_of_shared_arguments(hw_kernels):
    k = hw_kernels["problem1_gradients"]
    rng = np.random.default_rng(3)
    X, b2 = rng.standard_normal((7, 2)), rng.standard_normal((7, 2))
    per_row = k(x=X, b2=b2)
    for method in ("scalar", "matrix"):
        summed = k(x=X, b2=b2, reduce=True, method=method, chunk=3)
        assert summed["dL_dW1"].shape == (3, 2) and summed["dL_db2"].shape == (7, 2)
        np.testing.assert_allclose(summed["dL_dW1"], per_row["dL_dW1"].sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(summed["dL_db3"], per_row["dL_db3"].sum(axis=0), rtol=1e-12)
        np.testing.assert_allclose(summed["dL_dx"], per_row["dL_dx"], rtol=1e-12)
        assert np.array_equal(summed["L"], per_row["L"])


def test_chunks_threads_and_output_selection_do_not_change_results(hw_kernels):
    k = hw_kernels["problem1_gradients"]
    p = {"x": np.random.default_rng(4).standard_normal((37, 2)),
         "W2": np.random.default_rng(5).standard_normal((37, 2, 3))}
    full = k(**p)
    for options in ({"chunk": 5}, {"chunk": 5, "workers": 3}, {"outputs": ["dL_dW1", "L"]}):
        got = k(**p, **options)
        assert list(got) == list(options.get("outputs", full))
        for name in got:
            assert np.array_equal(got[name], full[name]), (options, name)


def test_results_can_be_written_into_given_arrays(hw_kernels):
    k = hw_kernels["problem1_gradients"]
    X = np.random.default_rng(6).standard_normal((9, 2))
    first = k(x=X)
    again = k(x=2 * X, out=first)
    assert again["dL_dW1"] is first["dL_dW1"]
    assert np.array_equal(again["dL_dW1"], k(x=2 * X)["dL_dW1"])
    with pytest.raises(ValueError, match="out\\['L'\\]"):
        k(x=X, out={"L": np.zeros(8)})


def test_forward_only_outputs_skip_the_backward_pass(hw_kernels):
    got = hw_kernels["problem1_gradients"](outputs=["y_hat", "L"])
    assert list(got) == ["y_hat", "L"] and got["L"] == 4.0


def test_bad_arguments_are_named(hw_kernels):
    k = hw_kernels["problem1_gradients"]
    with pytest.raises(ValueError, match="'W1' must end in shape \\(3, 2\\)"):
        k(W1=np.zeros((2, 3)))
    with pytest.raises(ValueError, match="unknown outputs"):
        k(outputs=["dL_dW9"])
    with pytest.raises(ValueError, match="method"):
        k(method="fast")


# -- the written module ------------------------------------------------------------------------

def test_module_imports_and_runs_without_sympy(homework1, tmp_path):
    (tmp_path / "homework1_kernels.py").write_text(render_kernels(homework1), encoding="utf-8")
    code = ("import sys; sys.modules['sympy'] = None\n"
            f"sys.path.insert(0, {str(tmp_path)!r})\n"
            "import homework1_kernels as k\n"
            "assert 'symderiv' not in sys.modules\n"
            "print(k.problem1_gradients()['dL_dx'].tolist())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[48.0, 40.0]"


def test_module_imports_only_numpy_and_the_standard_library(homework1):
    """Every import of the module, at the top or inside a function (the README's promise)."""
    import ast

    tree = ast.parse(render_kernels(homework1))
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [ast.unparse(n) for n in top] == ["import numpy as np"]
    names = {alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    roots = {name.split(".")[0] for name in names}
    assert {"numpy", "os", "concurrent"} <= roots  # what the runtime uses today, so the check sees them
    assert roots - {"numpy"} <= sys.stdlib_module_names, sorted(roots)


def test_source_is_deterministic_across_processes(homework1):
    """Same sheet, same bytes, whatever the hash seed (no set or dict order leaks in)."""
    code = ("import symderiv, symderiv.kernels as k, hashlib\n"
            "s = k.render_kernels(symderiv.derive_file('derivations/homework1.toml'))\n"
            "print(hashlib.sha256(s.encode()).hexdigest())\n")
    digests = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    import hashlib

    assert digests == {hashlib.sha256(render_kernels(homework1).encode()).hexdigest() + "\n"}


def test_every_function_has_a_docstring_naming_its_question(homework1, hw_kernels):
    question_ids = {q.id for p in homework1.problems for q in p.questions}
    for name, fn in hw_kernels.items():
        number = name[len("problem"):].split("_")[0]
        cited = {qid for qid in question_ids if qid.startswith(f"{number}.") and qid in (fn.__doc__ or "")}
        assert cited, f"{name}'s docstring names none of Problem {number}'s questions"


# -- formulas: the generic path ------------------------------------------------------------------

def _made_up_problem() -> Problem:
    """A kind-less problem: formula answers, givens as plain and indexed symbols."""
    a, b, P, n = sp.symbols("a b P n")
    Pi = sp.IndexedBase("P")
    givens = ((a, sp.Integer(3)), (Pi[1], sp.Rational(1, 2)), (Pi[2], sp.Rational(1, 4)))
    q1 = Question("7.1", "Made up", "", givens=givens,
                  answers=(Answer("7.1.f", sp.Symbol("f"), a * sp.log(1 - P) + sp.floor(b / a)),
                           Answer("7.1.number", sp.Symbol("c"), sp.Integer(5)),
                           Answer("7.1.m", sp.Symbol("M"), sp.Matrix([[a, b], [a * b, sp.Max(a, b)]]))))
    q2 = Question("7.2", "Other", "", givens=((b, sp.Integer(2)), (n, sp.Integer(4))),
                  answers=(Answer("7.2.g", sp.Symbol("g"), sp.Function("F")(n) + n),))
    return Problem(7, "made up", "made_up", (q1, q2))


def test_formula_answers_become_vectorized_functions():
    problem = _made_up_problem()
    sheet = Sheet("made", "made up", (problem,))
    k = compile_kernels(sheet)
    assert sorted(k) == ["problem7_f", "problem7_m"]
    f, expr = k["problem7_f"], problem.questions[0].answers[0].value
    a, b, P = sp.symbols("a b P")
    exact = [expr.subs({a: 3, b: 2, P: v}) for v in (sp.Rational(1, 2), sp.Rational(1, 4))]
    np.testing.assert_allclose(f(), [float(e) for e in exact], rtol=1e-15)
    grid = f(a=np.array([[1.0], [2.0]]), b=5.0, P=np.array([0.1, 0.2, 0.3]))
    assert grid.shape == (2, 3)
    assert grid[1, 2] == pytest.approx(float(expr.subs({a: 2, b: 5, P: sp.Rational(3, 10)})))
    m = k["problem7_m"](a=np.array([1.0, 4.0]))
    assert m.shape == (2, 2, 2) and m[1].tolist() == [[4.0, 2.0], [8.0, 4.0]]
    assert "7.2.g" in render_kernels(sheet)  # listed as not printable, not silently dropped


def test_formula_kernels_of_other_kinds_reproduce_their_answers(tmp_path):
    """Search and conv formulas against their own exact answers and brute-force counting."""
    spec = tmp_path / "kinds.toml"
    spec.write_text("""
[[problem]]
kind = "search"
[problem.random]
success_rate = 0.05
confidence = [0.95, 0.995]

[[problem]]
kind = "conv"
[[problem.size]]
input = [36, 36, 3]
kernel = [3, 3, 3]
[problem.apply]
input = [[6, 0, 1], [3, 4, 1], [4, 7, 0]]
kernel = [[1, 0], [0, -1]]
""", encoding="utf-8")
    import symderiv

    sheet = symderiv.derive_file(spec)
    k = compile_kernels(sheet)
    trials = [a.value for a in sheet.answers() if a.id.startswith("1.1.trials_")]
    np.testing.assert_array_equal(k["problem1_formula"](), np.array(trials, dtype=float))
    n, kk, p, s = np.meshgrid([5, 8, 36], [1, 3], [0, 1, 3], [1, 2], indexing="ij")
    brute = np.vectorize(lambda *v: len(rc.count_starts(int(v[0]), int(v[1]), int(v[2]), int(v[2]), int(v[3]))))
    np.testing.assert_array_equal(k["problem2_n_out"](n=n, k=kk, p=p, s=s), brute(n, kk, p, s))
    out = next(a.value for a in sheet.answers() if a.id.endswith(".output"))
    assert k["problem2_conv2d"]()[0].tolist() == np.array(out, dtype=float).tolist()


# -- conv2d ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def conv2d():
    sheet = Sheet("conv", "conv", (Problem(4, "c", "conv", ()),))  # no convolution question: no defaults
    return compile_kernels(sheet)["problem4_conv2d"]


@pytest.mark.parametrize("stride,pads,dilation", [((1, 1), (0, 0, 0, 0), (1, 1)), ((2, 1), (1, 1, 2, 0), (1, 1)),
                                                  ((1, 2), (0, 1, 1, 1), (2, 1)), ((3, 3), (2, 2, 2, 2), (2, 3))])
def test_conv2d_matches_naive_loops(conv2d, stride, pads, dilation):
    rng = np.random.default_rng(sum(stride) + sum(pads))
    x = rng.integers(-4, 5, (2, 3, 7, 8)).astype(float)
    w = rng.integers(-3, 4, (4, 3, 3, 2)).astype(float)
    got = conv2d(x, w, stride=stride, padding=((pads[0], pads[1]), (pads[2], pads[3])), dilation=dilation)
    for i in range(2):
        exact = rc.conv2d(x[i].astype(int).tolist(), w.astype(int).tolist(), stride, pads, dilation)
        assert got[i].tolist() == [[[float(v) for v in row] for row in plane] for plane in exact]


def test_conv2d_matches_pytorch(conv2d):
    torch = pytest.importorskip("torch", reason="PyTorch is a peer, not a dependency: pip install -e '.[peers]'")
    rng = np.random.default_rng(9)
    x, w = rng.standard_normal((3, 2, 20, 17)), rng.standard_normal((5, 2, 3, 3))
    ref = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), stride=2, padding=1, dilation=2)
    np.testing.assert_allclose(conv2d(x, w, stride=2, padding=1, dilation=2), ref.numpy(), rtol=1e-12, atol=1e-12)


def test_conv2d_shapes(conv2d):
    x = np.arange(9.0).reshape(3, 3)
    w = np.array([[1.0, 0.0], [0.0, -1.0]])
    assert conv2d(x, w, stride=1, padding=0, dilation=1).shape == (2, 2)  # one channel, one filter
    batch = conv2d(np.zeros((4, 5, 1, 6, 6)), np.zeros((2, 1, 3, 3)), stride=1, padding=0, dilation=1)
    assert batch.shape == (4, 5, 2, 4, 4)
    with pytest.raises(ValueError, match="same C"):
        conv2d(np.zeros((2, 6, 6)), np.zeros((1, 3, 3, 3)), stride=1, padding=0, dilation=1)


def test_fraction_reference_is_exact():
    """The conv reference really is exact arithmetic (so equality above is meaningful)."""
    assert rc.conv2d([[[1, 2]]], [[[[Fraction(1, 3)]]]])[0][0][0] == Fraction(1, 3)


def test_hostile_titles_cannot_become_code(tmp_path):
    """A title that tries to close the docstring or the comment stays text in the generated module."""
    import json

    from symderiv.derive import derive_file

    hostile = json.dumps('T """\nprint("INJECTED")\n"""\n# x\nraise SystemExit(3)')
    spec = tmp_path / "inj.toml"
    spec.write_text(f'[sheet]\nname = "inj"\ntitle = {hostile}\n[[problem]]\nkind = "gradflow"\n'
                    f'title = {hostile}\n[problem.chain]\nupstream = 1\nlocal = [2]\n[problem.residual]\n'
                    'upstream = 1\n[problem.depths]\nupstream = 1\nlocal = 1\nplain = [1]\nresidual = [2]\nblock = 2\n')
    source = render_kernels(derive_file(spec))
    module = tmp_path / "inj_kernels.py"
    module.write_text(source)
    done = subprocess.run([sys.executable, str(module)], capture_output=True, text=True)
    assert done.returncode == 0 and "INJECTED" not in done.stdout, (done.stdout, done.stderr)
