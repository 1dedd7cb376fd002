"""The PDF: typeset for real, read back with poppler, and TeX kept on a short leash.

TeX runs cost a second or more each, so there are few: the homework sheet (read back
with pdftotext against the answer key), a sheet with hostile titles, a deep network
(long formulas must break, not run off the page), and two tiny documents for the
lock-down. Without TeX they are skipped, with the command that installs it.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import unicodedata
from fractions import Fraction
from pathlib import Path

import pytest

from symderiv import cli
from symderiv.build import render_all
from symderiv.derive import derive_file
from symderiv.render import pdf
from symderiv.render.key import key_entries
from symderiv.render.latex import render_latex

ROOT = Path(__file__).resolve().parent.parent
HOMEWORK = ROOT / "derivations" / "homework1.toml"
NEED_TEX = pytest.mark.skipif(
    shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
    reason=f"TeX or poppler not installed: {pdf.INSTALL} poppler-utils")
MINUS = "\u2212"


def pdftotext(path: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", *args, str(path), "-"], capture_output=True, text=True, check=True).stdout


def number_pattern(text: str) -> re.Pattern:
    """``text`` as a whole number in pdftotext's output (minus as U+2212, no digit around it)."""
    return re.compile(r"(?<![\d.])" + re.escape(text.replace("-", MINUS)) + r"(?!\d)")


def printed_forms(value) -> list[list[str]]:
    """What may be on the page for a key value, as alternatives (one must be there in full):
    an integer as is; a fraction's numerator and denominator (typeset stacked), its short
    decimal (0.010005), or its 4 significant digits (5 for 5e-06, typeset 5 x 10^-6)."""
    if isinstance(value, list):
        return [form for row in value for entry in (row if isinstance(row, list) else [row])
                for form in printed_forms(entry)]
    exact = Fraction(value).limit_denominator(10**9)
    if isinstance(value, int) or exact.denominator == 1:
        return [[[str(int(value))]]]
    mantissa = f"{value:.4g}".split("e")[0]
    forms = [[mantissa], [repr(value).split("e")[0]]]
    if float(exact) == value and exact.denominator < 10**9:
        forms.append([str(exact.numerator), str(exact.denominator)])
    return [forms]


@pytest.fixture(scope="module")
def homework_pdf(tmp_path_factory) -> Path:
    if shutil.which("pdflatex") is None:
        pytest.skip(f"TeX not installed: {pdf.INSTALL}")
    files = render_all([HOMEWORK], {"tex"}, pdf=True)
    path = tmp_path_factory.mktemp("pdf") / "homework1.pdf"
    path.write_bytes(files["homework1.pdf"])
    return path


@NEED_TEX
def test_homework_pdf_has_sane_page_count(homework_pdf, homework1):
    info = subprocess.run(["pdfinfo", str(homework_pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    problems = len(homework1.problems)
    assert problems <= pages <= 12 * problems


@NEED_TEX
def test_every_answer_id_and_value_is_on_its_page(homework_pdf, homework1):
    pages = pdftotext(homework_pdf).split("\f")
    key = key_entries(homework1)
    for answer_id, entry in key.items():
        # a conclusion box and its [id] share a line, so they share a page
        on = [p for p in pages if f"[{answer_id}]" in p]
        assert on, f"{answer_id} not in the PDF"
        for forms in printed_forms(entry["value"]) if "value" in entry else []:
            assert any(all(number_pattern(f).search(p) for f in form) for form in forms for p in on), \
                f"{answer_id}: none of {forms} on its page"


@NEED_TEX
def test_page_one_renders(homework_pdf, tmp_path):
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(homework_pdf), str(tmp_path / "p")],
                   check=True, capture_output=True)
    png = next(tmp_path.glob("p*.png")).read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 2000


@NEED_TEX
def test_homework_pdf_draws_its_figures(homework_pdf, homework1):
    figures = sum(len(q.figures) for p in homework1.problems for q in p.questions)
    text = pdftotext(homework_pdf)
    assert figures >= 1 and len(re.findall(r"Figure\s+\d+\.", text)) == figures


HOSTILE_TITLE = r"\input{/etc/passwd} \write18{touch PWNED} ^^5cinput{/etc/passwd} 100% $x$ # & _ ~ |<>|"
HOSTILE_AUTHOR = r"}\end{document} \csname input\endcsname{/etc/hostname} Łukasz Ωmega"
HOSTILE_PROBLEM = r"$\csname write\endcsname18{touch PWNED}$ {\catcode`\^^5c=12}"


def network_spec(tmp_path: Path, name: str, title: str = "Homework 1", author: str = "",
                 problem_title: str = "Backpropagation") -> Path:
    """The homework's network problem alone, under the given titles (TOML literal strings
    keep every byte, so the titles may hold backslashes)."""
    body = HOMEWORK.read_text().split("[[problem]]", 1)[1].split("[[problem]]")[0]
    body = re.sub(r"^title = .*\n", "", body, flags=re.M)
    spec = tmp_path / f"{name}.toml"
    spec.write_text(f"[sheet]\nname = \"{name}\"\ntitle = '{title}'\nauthor = '{author}'\n\n"
                    f"[[problem]]\ntitle = '{problem_title}'{body}", encoding="utf-8")
    return spec


def plain(text: str) -> str:
    """Text with line breaks and runs of spaces made single spaces, in NFKC form (the math
    font's Omega comes back as the ohm sign, the same letter to NFKC)."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


#: Latin Modern (Debian's lmodern, recommended by texlive-base) gives Type 1 fonts that
#: pdftotext reads fully; without it TeX falls back on bitmap fonts, whose accented
#: letters poppler cannot name, so the comparison is then made on the ASCII characters.
LMODERN = shutil.which("kpsewhich") is not None and subprocess.run(
    ["kpsewhich", "lmodern.sty"], capture_output=True, text=True).stdout.strip() != ""


def visible(text: str) -> str:
    """What pdftotext is sure to give back of ``text`` with the fonts at hand."""
    text = plain(text)
    return text if LMODERN else " ".join("".join(ch for ch in text if ch.isascii()).split())


@NEED_TEX
def test_hostile_titles_print_literally_and_do_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # \write18{touch PWNED} would create the file here
    spec = network_spec(tmp_path, "hostile", HOSTILE_TITLE, HOSTILE_AUTHOR, HOSTILE_PROBLEM)
    files = render_all([spec], {"tex"}, pdf=True)
    (tmp_path / "hostile.pdf").write_bytes(files["hostile.pdf"])
    text = visible(pdftotext(tmp_path / "hostile.pdf"))
    for title in (HOSTILE_TITLE, HOSTILE_AUTHOR, HOSTILE_PROBLEM):
        assert visible(title) in text, title
    assert not list(tmp_path.rglob("PWNED")) and not Path("/tmp/PWNED").exists()
    assert "root:" not in text and "/bin/" not in text  # nothing of /etc/passwd


@NEED_TEX
def test_tex_itself_cannot_run_programs_or_touch_files(tmp_path):
    """Even unescaped, a document cannot escape its directory (defence in depth)."""
    target = tmp_path / "written.txt"
    document = (r"\documentclass{article}\begin{document}"
                rf"\immediate\write18{{touch {tmp_path}/PWNED}}"
                rf"\immediate\openout5={target}\immediate\write5{{x}}\immediate\closeout5 ok\end{{document}}")
    with pytest.raises(pdf.TexError):
        pdf.compile_pdf(document, "evil")
    reading = r"\documentclass{article}\begin{document}\input{/etc/passwd}\end{document}"
    with pytest.raises(pdf.TexError, match="passwd"):
        pdf.compile_pdf(reading, "evil")
    assert not target.exists() and not (tmp_path / "PWNED").exists()


@NEED_TEX
def test_same_document_same_pdf_bytes():
    document = r"\documentclass{article}\begin{document}Same bytes.\end{document}"
    assert pdf.compile_pdf(document, "a") == pdf.compile_pdf(document, "b")


def test_first_error_of_a_log():
    log = ("This is pdfTeX\n(./sheet.tex\nLaTeX Warning: x on input line 3.\n"
           "./sheet.tex:12: Undefined control sequence.\nl.12 \\foo\n./sheet.tex:14: Second.\n")
    assert pdf.first_error(log) == "line 12: Undefined control sequence."
    assert pdf.first_error("! Emergency stop.\n") == "Emergency stop."


@NEED_TEX
def test_tex_failure_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, capsys):
    spec, out = network_spec(tmp_path, "small"), tmp_path / "out"
    out.mkdir()
    (out / "small.tex").write_text("previous good sheet")
    monkeypatch.setattr("symderiv.render.latex.LatexSheet.document",
                        lambda self, sheet: "\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}")
    status = cli.main(["build", str(spec), "-o", str(out)])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1
    assert "small.tex" in err and "Undefined control sequence" in err
    assert sorted(p.name for p in out.iterdir()) == ["small.tex"]
    assert (out / "small.tex").read_text() == "previous good sheet"


DEEP_LAYERS = 7


@NEED_TEX
def test_long_chain_rule_formulas_break_instead_of_running_off_the_page(tmp_path):
    layers = "\n".join('[[problem.layer]]\nW = [[1, 1], [1, 2]]\nb = [1, 1]\nactivation = "relu"\n'
                       for _ in range(DEEP_LAYERS - 1))
    spec = tmp_path / "deep.toml"
    spec.write_text('[sheet]\nname = "deep"\n[[problem]]\nkind = "network"\nx = [1, 2]\ny = 3\n'
                    f'loss = "squared_error"\n{layers}[[problem.layer]]\nW = [[1, -1]]\nb = 1\n'
                    'activation = "relu"\n')
    pdf.compile_in(tmp_path, render_latex(derive_file(spec)), "deep")
    log = (tmp_path / f"{pdf.JOB}.log").read_text("latin-1")
    overfull = [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert max(overfull, default=0.0) < 5.0, overfull


@NEED_TEX
def test_homework_tex_has_no_overfull_lines(tmp_path, homework1):
    pdf.compile_in(tmp_path, render_latex(homework1), "homework1")
    log = (tmp_path / f"{pdf.JOB}.log").read_text("latin-1")
    overfull = [float(x) for x in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert max(overfull, default=0.0) < 5.0, overfull


def test_without_tex_one_line_says_how_to_install_and_the_rest_is_written(tmp_path):
    """The CLI end to end with no TeX on PATH: exit 0, .tex and key written, one line about TeX."""
    spec = network_spec(tmp_path, "small")
    env = {"PATH": str(Path(sys.executable).parent), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "symderiv", "build", str(spec), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr
    from symderiv.build import ARTIFACTS, DEFAULT_FORMATS

    expected = sorted(f"small{a.suffix}" for a in ARTIFACTS if a.format in DEFAULT_FORMATS.split(","))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == expected
    assert [line for line in done.stderr.splitlines() if "TeX" in line or pdf.INSTALL in line] == [
        done.stderr.strip()] and pdf.INSTALL in done.stderr
