"""Problem kind ``conv``: sizes against brute-force enumeration and PyTorch, values against
naive loops and PyTorch, bad specs against SpecError naming the field."""
from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest
import reference_conv as ref
import sympy as sp
from peers import needs_torch
from sympy.matrices.expressions.matexpr import MatrixElement

from symderiv.derive import derive_sheet, parse_sheet
from symderiv.errors import SpecError
from symderiv.kinds.conv import MAX_APPLY_SIDE, MAX_PRODUCTS, MAX_SIDE, MAX_SIZES
from symderiv.kinds.conv.apply import conv2d
from symderiv.kinds.conv.size import Axis, derivation, formula, full_formula, same_padding, tidy
from symderiv.model import Step
from symderiv.model import TensorShape as Shape
from symderiv.spec import Fields

HOMEWORK = {"size": [{"input": [36, 36, 3], "filters": 1, "kernel": [3, 3, 3], "stride": 1, "padding": 0},
                     {"input": [36, 36, 3], "filters": 2, "kernel": [3, 3, 3], "stride": 2, "padding": 3}],
            "apply": {"input": [[6, 0, 1], [3, 4, 1], [4, 7, 0]], "kernel": [[1, 0], [0, -1]],
                      "stride": 1, "padding": 0}}


def sheet_of(problem: dict, number: int = 1):
    """Derive a sheet whose problem ``number`` is this conv problem (earlier ones: network placeholders)."""
    filler = {"kind": "network", "x": [1], "y": 1, "layer": [{"W": [[1]], "b": [0], "activation": "identity"}]}
    problems = [filler] * (number - 1) + [{"kind": "conv", **problem}]
    return derive_sheet(parse_sheet(Fields({"problem": problems}, "test.toml"), "t"))


def spec_error(problem: dict) -> SpecError:
    with pytest.raises(SpecError) as info:
        sheet_of(problem)
    return info.value


def pads_of(padding) -> tuple[int, int]:
    return (padding, padding) if isinstance(padding, int) else tuple(padding)


# --- sizes ---------------------------------------------------------------------------------

SIZE_GRID = [(n, k, s, d, before, after)
             for n, k, s, d, before, after in itertools.product(range(1, 10), range(1, 5), range(1, 4), range(1, 3),
                                                                range(3), range(3))
             if d * (k - 1) + 1 <= n + before + after]


def test_size_grid_is_large():
    assert len(SIZE_GRID) > 1000


@pytest.mark.parametrize("n,k,s,d,before,after", SIZE_GRID[::7])
def test_axis_size_matches_brute_force(n, k, s, d, before, after):
    axis = Axis(n, k, s, d, before, after)
    starts = ref.count_starts(n, k, before, after, s, d)
    assert axis.size == len(starts)
    assert tuple(axis.starts) == tuple(starts)


def test_every_grid_case_against_brute_force():
    """The whole grid (over a thousand cases, unequal paddings included) in one loop."""
    wrong = [case for case in SIZE_GRID if Axis(*case).size != len(ref.count_starts(case[0], case[1], case[4],
                                                                                      case[5], case[2], case[3]))]
    assert wrong == []


def test_printed_formula_gives_the_same_count():
    """The form the sheet substitutes into (plain, dilated, unequal padding) evaluates to the count."""
    for case in SIZE_GRID[::5]:
        axis = Axis(*case)
        assert int(formula(axis).subs(axis.numbers())) == len(ref.count_starts(*case[:2], case[4], case[5],
                                                                                case[2], case[3]))


def test_general_answer_formula_against_brute_force():
    """4.3.n_out as a formula in n, k, p, s, evaluated at integer points, counts the starts."""
    sheet = sheet_of(HOMEWORK, 4)
    n_out = sheet.answer("4.3.n_out").value
    names = {x.name: x for x in n_out.free_symbols}
    assert set(names) == {"n", "k", "p", "s"}
    for n, k, p, s in itertools.product(range(1, 12), range(1, 6), range(4), range(1, 5)):
        if k <= n + 2 * p:
            value = n_out.subs({names["n"]: n, names["k"]: k, names["p"]: p, names["s"]: s})
            assert value == len(ref.count_starts(n, k, p, p, s)), (n, k, p, s)


def test_general_formula_with_dilation_and_unequal_padding():
    general = full_formula()
    names = {x.name: x for x in general.free_symbols}
    for n, k, s, d, before, after in SIZE_GRID[::11]:
        value = general.subs({names["n"]: n, names["k"]: k, names["s"]: s, names["d"]: d,
                              names["p_before"]: before, names["p_after"]: after})
        assert value == len(ref.count_starts(n, k, before, after, s, d))


def test_same_padding_keeps_the_size_and_matches_torch_split():
    for n, k, d in itertools.product(range(1, 9), range(1, 6), range(1, 4)):
        axis = same_padding(Axis(n, k, 1, d))
        assert (axis.before, axis.after) == ref.same_pads(k, d)
        assert axis.size == n == len(ref.count_starts(n, k, axis.before, axis.after, 1, d))


RECT_CASES = [((h, w, c), f, (kh, kw), (sh, sw), (ph, pw), (dh, dw))
              for (h, w, c), f, (kh, kw), (sh, sw), (ph, pw), (dh, dw) in itertools.product(
                  [(7, 5, 1), (9, 12, 2), (6, 6, 3)], [1, 3], [(1, 1), (3, 2), (2, 4)], [(1, 1), (2, 3)],
                  [(0, 0), (1, 2)], [(1, 1), (2, 1)])
              if dh * (kh - 1) < h + 2 * ph and dw * (kw - 1) < w + 2 * pw]


def _size_spec(case) -> dict:
    (h, w, c), f, kernel, stride, pad, dil = case
    return {"input": [h, w, c], "filters": f, "kernel": list(kernel), "stride": list(stride),
            "padding": list(pad), "dilation": list(dil)}


def sizes_sheet(sizes: list[dict]):
    """A sheet of every size table, in order, as conv problems of at most MAX_SIZES questions each."""
    problems = [{"kind": "conv", "size": sizes[i:i + MAX_SIZES]} for i in range(0, len(sizes), MAX_SIZES)]
    return derive_sheet(parse_sheet(Fields({"problem": problems}, "test.toml"), "t"))


def output_shapes(sheet) -> list:
    """The output shape of every size question of ``sheet``, in order."""
    return [a.value for p in sheet.problems for q in p.questions for a in q.answers if a.id.endswith("output_shape")]


@functools.cache
def rect_sheet():
    """Every rectangular case as one size question each, derived once."""
    return sizes_sheet([_size_spec(case) for case in RECT_CASES])


def rect_shapes() -> list:
    return output_shapes(rect_sheet())


def test_rectangular_shapes_against_brute_force():
    for shape, ((h, w, _c), f, (kh, kw), (sh, sw), (ph, pw), (dh, dw)) in zip(rect_shapes(), RECT_CASES, strict=True):
        expected = [len(ref.count_starts(h, kh, ph, ph, sh, dh)), len(ref.count_starts(w, kw, pw, pw, sw, dw)), f]
        assert shape.tolist() == [expected]


@needs_torch
def test_rectangular_shapes_against_torch():
    for shape, ((h, w, c), f, kernel, stride, pad, dil) in zip(rect_shapes(), RECT_CASES, strict=True):
        assert tuple(shape) == ref.torch_output_shape(h, w, c, f, kernel, stride, pad, dil)


@needs_torch
def test_same_padding_shapes_against_torch():
    cases = list(itertools.product([5, 8], [6, 7], [1, 2, 3, 4], [1, 2]))
    shapes = output_shapes(sizes_sheet([{"input": [h, w, 2], "filters": 3, "kernel": k, "padding": "same",
                                         "dilation": d} for h, w, k, d in cases]))
    for shape, (h, w, k, d) in zip(shapes, cases, strict=True):
        assert tuple(shape) == ref.torch_output_shape(h, w, 2, 3, k, 1, "same", d)


@needs_torch
def test_homework_sizes_against_torch():
    sheet = sheet_of(HOMEWORK, 4)
    for qid, case in (("4.1", HOMEWORK["size"][0]), ("4.2", HOMEWORK["size"][1])):
        h, w, c = case["input"]
        expected = ref.torch_output_shape(h, w, c, case["filters"], case["kernel"][:2], case["stride"],
                                          case["padding"], 1)
        assert tuple(sheet.answer(f"{qid}.output_shape").value) == expected


def test_channels_are_the_number_of_filters():
    sheet = sheet_of({"size": [{"input": [8, 8, 5], "filters": 2, "kernel": 3}]}, 4)
    assert sheet.answer("4.1.output_shape").value[2] == 2
    channels = sheet.answer("4.2.channels").value
    assert isinstance(channels, sp.Symbol) and channels.name == "l"


def test_shape_is_a_plain_matrix_to_compare_and_hash():
    shape = Shape([[34, 34, 1]])
    plain = sp.ImmutableMatrix([[34, 34, 1]])
    assert shape == plain and hash(shape) == hash(plain) and {shape: 1}[plain] == 1


# --- the convolution -----------------------------------------------------------------------

def random_conv(rng) -> dict:
    c, f = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    h, w = int(rng.integers(3, 8)), int(rng.integers(3, 8))
    kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    problem = {"input": rng.integers(-5, 6, size=(c, h, w)).tolist(),
               "kernel": rng.integers(-3, 4, size=(f, c, kh, kw)).tolist(),
               "stride": [int(rng.integers(1, 4)), int(rng.integers(1, 4))],
               "padding": [int(rng.integers(0, 3)), int(rng.integers(0, 3))],
               "dilation": [int(rng.integers(1, 3)), int(rng.integers(1, 3))]}
    if rng.random() < 0.2:
        problem["padding"], problem["stride"] = "same", 1
    return problem


def geometry(problem: dict) -> tuple:
    """Stride, pads (top, bottom, left, right), dilation, 'same' as the references take them."""
    w = problem["kernel"]
    stride, dil = problem["stride"], problem["dilation"]
    stride = (stride, stride) if isinstance(stride, int) else tuple(stride)
    if problem["padding"] == "same":
        pads = ref.same_pads(len(w[0][0]), dil[0]) + ref.same_pads(len(w[0][0][0]), dil[1])
        return stride, pads, tuple(dil), True
    ph, pw = pads_of(problem["padding"])
    return stride, (ph, ph, pw, pw), tuple(dil), False


def fits(problem: dict) -> bool:
    (_, pads, dil, _), x, w = geometry(problem), problem["input"], problem["kernel"]
    return (dil[0] * (len(w[0][0]) - 1) < len(x[0]) + pads[0] + pads[1]
            and dil[1] * (len(w[0][0][0]) - 1) < len(x[0][0]) + pads[2] + pads[3])


def random_convs(count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < count:
        problem = random_conv(rng)
        if fits(problem):
            out.append(problem)
    return out


CONVS = random_convs(40, 2024)


@functools.cache
def conv_sheet(index: int):
    return sheet_of({"apply": CONVS[index]})


def outputs_of(sheet, problem: dict, number: int = 1) -> list[sp.ImmutableMatrix]:
    filters, qid = len(problem["kernel"]), f"{number}.2"
    ids = [f"{qid}.output"] if filters == 1 else [f"{qid}.output_f{i}" for i in range(1, filters + 1)]
    return [sheet.answer(i).value for i in ids]


@pytest.mark.parametrize("index", range(len(CONVS)))
def test_conv2d_against_naive_loops(index):
    problem = CONVS[index]
    stride, pads, dil, _ = geometry(problem)
    expected = ref.conv2d(problem["input"], problem["kernel"], stride, pads, dil)
    got = outputs_of(conv_sheet(index), problem)
    assert [m.tolist() for m in got] == [[[sp.Rational(v.numerator, v.denominator) for v in row] for row in plane]
                                         for plane in expected]


@needs_torch
def test_conv2d_against_torch():
    for index, problem in enumerate(CONVS):
        stride, pads, dil, same = geometry(problem)
        expected = ref.torch_conv2d(problem["input"], problem["kernel"], stride, pads, dil, same)
        got = np.array([np.array(m.tolist(), dtype=float) for m in outputs_of(conv_sheet(index), problem)])
        assert got.shape == expected.shape and np.allclose(got, expected, rtol=0, atol=1e-9)


def test_homework_conv_against_naive_loops():
    sheet = sheet_of(HOMEWORK, 4)
    x, w = [HOMEWORK["apply"]["input"]], [[HOMEWORK["apply"]["kernel"]]]
    assert sheet.answer("4.4.output").value.tolist() == ref.conv2d(x, w)[0]


def test_fractions_are_exact():
    problem = {"input": [["1/3", "0.5"], [2, "-1/7"]], "kernel": [["2/3"]], "stride": 1, "padding": 0}
    got = sheet_of({"apply": problem}).answer("1.2.output").value
    assert got == sp.ImmutableMatrix([[sp.Rational(2, 9), sp.Rational(1, 3)], [sp.Rational(4, 3), sp.Rational(-2, 21)]])


def window_steps(question) -> list[Step]:
    return [s for s in question.steps if isinstance(s.lhs, MatrixElement)]


def test_every_window_step_sums_to_its_entry():
    """The printed sum of products evaluates to the printed entry, which is the answer's entry."""
    for sheet in [conv_sheet(i) for i in range(10)] + [sheet_of(HOMEWORK)]:
        question = sheet.problems[0].questions[-1]
        steps = window_steps(question)
        entries = [e for a in question.answers for e in a.value]
        assert len(steps) == len(entries)
        for step, entry in zip(steps, entries):
            assert step.substituted.doit() == step.value == entry


def test_windows_show_one_product_per_tap():
    problem = CONVS[3]
    question = conv_sheet(3).problems[0].questions[-1]
    taps = len(problem["input"]) * len(problem["kernel"][0][0]) * len(problem["kernel"][0][0][0])
    assert all(len(s.substituted.args) == taps for s in window_steps(question) if taps > 1)


# --- the sheet -----------------------------------------------------------------------------

def test_question_numbering_follows_the_homework():
    sheet = sheet_of(HOMEWORK, 4)
    assert [q.id for q in sheet.problems[3].questions] == ["4.1", "4.2", "4.3", "4.4"]
    assert {"4.1.output_shape", "4.2.output_shape", "4.3.n_out", "4.3.channels", "4.4.output"} <= {
        a.id for a in sheet.answers()}
    three = sheet_of({"size": HOMEWORK["size"] * 3 + HOMEWORK["size"][:1], "apply": HOMEWORK["apply"]}, 2)
    assert [q.id for q in three.problems[1].questions] == [f"2.{i}" for i in range(1, 10)]
    only_general = sheet_of({})
    assert [q.id for q in only_general.problems[0].questions] == ["1.1"]


def test_several_filters_get_one_answer_each():
    problem = {"input": [[[1, 2, 3]] * 3], "kernel": [[[[1]]], [[[2]]]], "stride": 1, "padding": 0}
    ids = [a.id for a in sheet_of({"apply": problem}).answers()]
    assert "1.2.output_f1" in ids and "1.2.output_f2" in ids and "1.2.output" not in ids


def test_multichannel_figures_add_up_to_the_printed_output():
    """One figure per input channel of filter 1; the shares drawn add up to the output (and each is
    that channel's cross-correlation, by the naive reference)."""
    x = [[[1, 2, 0], [3, 1, 1], [0, 2, -2]], [[2, 0, 1], [1, 1, 0], [0, -1, 3]]]
    w = [[[[1, -1], [2, 0]], [[0, 1], [1, 1]]], [[[1, 0], [0, 1]], [[2, 2], [0, 0]]]]
    sheet = sheet_of({"apply": {"input": x, "kernel": w, "stride": 1, "padding": 0}})
    question = sheet.problems[0].questions[-1]
    shares = [f.get("output") for f in question.figures]
    assert len(shares) == 2 and [f.get("channel") for f in question.figures] == [1, 2]
    assert shares[0] + shares[1] == sheet.answer(f"{question.id}.output_f1").value
    for c, share in enumerate(shares):
        expected = ref.conv2d([x[c]], [[w[0][c]]])[0]
        assert share.tolist() == [[sp.Integer(int(v)) for v in row] for row in expected]


def numeric_steps(sheet):
    for problem in sheet.problems:
        for q in problem.questions:
            for s in q.steps:
                if s.substituted is not None and s.value is not None and not s.substituted.free_symbols:
                    yield s


def test_substituted_forms_evaluate_to_their_values():
    cases = [sheet_of(HOMEWORK), rect_sheet(), conv_sheet(5),
             sheet_of({"size": [{"input": [10, 9, 2], "kernel": [4, 3], "padding": "same", "dilation": [2, 1]}]})]
    for sheet in cases:
        steps = list(numeric_steps(sheet))
        assert steps
        for s in steps:
            assert sp.simplify(s.substituted.doit() - s.value) == 0, s.text


def test_start_checks_hold():
    """Each size question's check: the last window fits, one more stride would not."""
    checks = [s for p in rect_sheet().problems for q in p.questions[:-1] for s in q.steps
              if isinstance(s.lhs, sp.Symbol) and s.lhs.name == "t_last"]
    relations = [m for s in checks for m in s.math if not m.free_symbols]
    assert len(checks) >= 22 and len(relations) == 2 * len(checks)
    assert all(bool(r.doit()) for r in relations)


def test_display_forms_keep_their_value():
    der = derivation()
    for expr in (der.n_out, der.general, der.largest, full_formula()):
        assert sp.simplify(tidy(expr) - expr) == 0
    for rel in (der.fits, der.solved):
        tidied = tidy(rel)
        assert type(tidied) is type(rel) and sp.simplify((tidied.lhs - tidied.rhs) - (rel.lhs - rel.rhs)) == 0


def test_solved_bound_is_the_inequality_solution():
    """j <= bound exactly when the window starting at 1 + j s fits (checked at integer points)."""
    der = derivation()
    names = {x.name: x for x in der.fits.free_symbols | der.solved.free_symbols}
    for n, k, p, s, j in itertools.product(range(1, 7), range(1, 4), range(2), range(1, 4), range(8)):
        values = {names["n"]: n, names["k"]: k, names["p"]: p, names["s"]: s, names["j"]: j}
        fits_here = 1 + j * s + k - 1 <= n + 2 * p
        assert bool(der.solved.subs(values)) == fits_here


def test_figures_carry_the_numbers():
    sheet = sheet_of(HOMEWORK, 4)
    q1, q4 = sheet.problems[3].questions[0], sheet.problems[3].questions[3]
    grid = q1.figures[0]
    assert grid.kind == "padded_grid" and tuple(grid.get("starts")) == tuple(ref.count_starts(36, 3, 0, 0, 1))
    window = q4.figures[0]
    assert window.kind == "sliding_window"
    assert window.get("output") == sheet.answer("4.4.output").value
    assert window.get("kernel") == sp.ImmutableMatrix(HOMEWORK["apply"]["kernel"])


def test_largest_allowed_size_derives_with_a_lazy_figure():
    """At the limit (a padded height of MAX_SIDE) the sheet derives at once: the figure's starts are the
    brute-force starts, held as a range, not a tuple of every start."""
    n = MAX_SIDE - 2
    spec = {"size": [{"input": [n, 8, 1], "kernel": [3, 1], "padding": [1, 0], "stride": [7, 1]}]}
    sheet = sheet_of(spec)
    starts = sheet.problems[0].questions[0].figures[0].get("starts")
    assert isinstance(starts, range) and list(starts) == ref.count_starts(n, 3, 1, 1, 7)
    assert sheet.answer("1.1.output_shape").value == sp.ImmutableMatrix([[len(starts), 8, 1]])


def test_sheet_is_deterministic_and_prints():
    from symderiv.render.latex import render_latex

    first, second = render_latex(sheet_of(HOMEWORK, 4)), render_latex(sheet_of(HOMEWORK, 4))
    assert first == second and "4.4.output" in first.replace("\\_", "_")


def test_conv2d_function_matches_reference_on_padded_dilated_case():
    from symderiv.kinds.conv.apply import ApplySpec

    x = [[[1, 2, 0, -1], [3, 1, 1, 0], [0, 2, -2, 1]]]
    w = [[[[1, -1], [2, 0]]]]
    spec = ApplySpec((sp.ImmutableMatrix(x[0]),), ((sp.ImmutableMatrix(w[0][0]),),),
                     Axis(3, 2, 2, 2, 1, 2), Axis(4, 2, 1, 2, 2, 1))
    assert [m.tolist() for m in conv2d(spec)] == ref.conv2d(x, w, (2, 1), (1, 2, 2, 1), (2, 2))


# --- bad input -----------------------------------------------------------------------------

def size(**fields) -> dict:
    return {"size": [{"input": [8, 8, 3], "kernel": 3, **fields}]}


def apply(**fields) -> dict:
    return {"apply": {"input": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernel": [[1, 0], [0, 1]], **fields}}


BAD = [
    (size(stride=0), "size[1].stride", "must be >= 1"),
    (size(stride=-2), "size[1].stride", "must be >= 1"),
    (size(stride=[1, 0]), "size[1].stride[2]", "must be >= 1"),
    (size(stride=[1, 2, 3]), "size[1].stride", "[height, width]"),
    (size(dilation=0), "size[1].dilation", "must be >= 1"),
    (size(padding=-1), "size[1].padding", "must be >= 0"),
    (size(padding=[0, -1]), "size[1].padding[2]", "must be >= 0"),
    (size(padding="valid"), "size[1].padding", "expected a number"),
    (size(padding="same", stride=2), "size[1].padding", "stride 1"),
    (size(kernel=9), "size[1].kernel", "exceeds the padded input"),
    (size(kernel=5, dilation=2), "size[1].kernel", "exceeds the padded input"),
    (size(kernel=[3, 3, 2]), "size[1].kernel[3]", "does not match"),
    (size(kernel=2.5), "size[1].kernel", "whole number"),
    (size(kernel=[3, 3, 3, 3]), "size[1].kernel", "entries"),
    (size(filters=0), "size[1].filters", ">= 1"),
    (size(filters=1.5), "size[1].filters", "whole number"),
    (size(colour="red"), "size[1].colour", "unknown field"),
    ({"size": [{"input": [36.5, 36, 3], "kernel": 3}]}, "size[1].input[1]", "whole number"),
    ({"size": [{"input": [36, 36], "kernel": 3}]}, "size[1].input", "[height, width, channels]"),
    ({"size": [{"input": [0, 36, 3], "kernel": 1}]}, "size[1].input[1]", ">= 1"),
    ({"size": [{"input": [36, 36, 3], "kernel": "3/2"}]}, "size[1].kernel", "whole number"),
    ({"size": [{"input": [36, 36, True], "kernel": 3}]}, "size[1].input[3]", "expected a number"),
    (apply(stride=0), "apply.stride", "must be >= 1"),
    (apply(padding=-1), "apply.padding", "must be >= 0"),
    (apply(dilation=[1, 0]), "apply.dilation[2]", "must be >= 1"),
    (apply(padding="same", stride=[1, 2]), "apply.padding", "stride 1"),
    (apply(kernel=[[1] * 4] * 4), "apply.kernel", "exceeds the padded input"),
    (apply(kernel=[[[[1]]], [[[1]]]], input=[[[1, 2]], [[3, 4]]]), "apply.kernel", "channel"),
    (apply(kernel=[[[1, 0], [0, 1]]]), "apply.kernel", "2-D array"),
    (apply(input=[1, 2, 3]), "apply.input", "2-D array"),
    (apply(input=[[1, 2], [3]]), "apply.input[2]", "rectangular"),
    (apply(input=[[1, "x"], [3, 4]]), "apply.input[1][2]", "expected a number"),
    (apply(input=[]), "apply.input", "non-empty"),
    (apply(input=[[0] * 30] * 30), "apply.input", "at most"),
    (apply(input=[[0] * 30] * 30, kernel=[[1] * 11] * 11), "apply.kernel", f"48,400 products (400 output entries x "
                                                                          f"121 kernel entries each); at most "
                                                                          f"{MAX_PRODUCTS:,}"),
    ({"size": [{"input": [3, 3, 1], "kernel": 1}] * (MAX_SIZES + 1)}, "size", f"at most {MAX_SIZES} size questions"),
    (apply(bias=1), "apply.bias", "unknown field"),
    # bounds: the padded side, stride, dilation and kernel are at most MAX_SIDE (MAX_APPLY_SIDE when applied)
    (size(padding=10 ** 6), "size[1].padding", f"<= {MAX_SIDE}"),
    (size(padding=10 ** 17), "size[1].padding", f"<= {MAX_SIDE}"),
    (size(padding=1e6), "size[1].padding", f"<= {MAX_SIDE}"),
    (size(padding=[0, MAX_SIDE + 1]), "size[1].padding[2]", f"<= {MAX_SIDE}"),
    (size(padding=MAX_SIDE // 2), "size[1].padding", f"height (5000 + 8 + 5000 = 10008) must be <= {MAX_SIDE}"),
    (size(padding=[0, MAX_SIDE // 2]), "size[1].padding", "padded input's width"),
    ({"size": [{"input": [MAX_SIDE + 1, 8, 3], "kernel": 3}]}, "size[1].input[1]", f"<= {MAX_SIDE}"),
    (size(stride=10 ** 17), "size[1].stride", f"<= {MAX_SIDE}"),
    (size(stride=[1, MAX_SIDE + 1]), "size[1].stride[2]", f"<= {MAX_SIDE}"),
    (size(dilation=MAX_SIDE + 1), "size[1].dilation", f"<= {MAX_SIDE}"),
    (size(kernel=10 ** 6), "size[1].kernel", f"<= {MAX_SIDE}"),
    (size(kernel=[3, MAX_SIDE + 1]), "size[1].kernel[2]", f"<= {MAX_SIDE}"),
    (size(kernel=MAX_SIDE, padding="same"), "size[1].padding", f"must be <= {MAX_SIDE}"),
    (apply(padding=15), "apply.padding", f"(15 + 3 + 15 = 33) must be <= {MAX_APPLY_SIDE}"),
    (apply(stride=10 ** 17), "apply.stride", f"<= {MAX_SIDE}"),
    (apply(input=[[1] * (MAX_APPLY_SIDE + 1)] * 2), "apply.input", f"must be <= {MAX_APPLY_SIDE}"),
    ({"shape": 1}, "shape", "unknown field"),
]


@pytest.mark.parametrize("problem,field,words", BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_input_names_the_field(problem, field, words):
    err = spec_error(problem)
    assert err.field == f"problem[1].{field}", str(err)
    assert words in err.problem, str(err)
