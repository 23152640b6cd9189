"""The exercises in nbgrader's markup: the build's cell markers, the student versions it writes, and a
real ``nbgrader generate_assignment`` + ``autograde`` of the series in a temporary course folder.

The autograde test grades chapters twice: the shipped notebooks (solutions in place: full marks)
and nbgrader's own student versions, untouched (no marks). Most of its time is nbgrader executing
the notebooks (see GRADED for which chapters, and why).
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOURCES = sorted((NOTEBOOKS / "src").glob("*.py"))


def _load_build():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()


def _grading(cells):
    return [c.metadata["nbgrader"] for c in cells if "nbgrader" in c.metadata]


# ---- markers -> metadata ------------------------------------------------------------------------

EXAMPLE = '''# %% [markdown]
# Add two numbers.

# %% [solution] id=add
def add(a, b):
    ### BEGIN SOLUTION
    return a + b
    ### END SOLUTION

# %% [test] id=test_add points=2
assert add(2, 3) == 5, "Hint: use +"
'''


def test_markers_give_nbgrader_metadata():
    markdown, solution, test = build.parse(EXAMPLE)
    assert markdown.cell_type == "markdown" and "nbgrader" not in markdown.metadata
    assert solution.metadata["nbgrader"] == {"grade": False, "solution": True, "locked": False, "task": False,
                                             "grade_id": "add", "schema_version": 3}
    assert test.metadata["nbgrader"] == {"grade": True, "solution": False, "locked": True, "task": False,
                                         "grade_id": "test_add", "schema_version": 3, "points": 2}
    assert solution.source.startswith("def add(a, b):") and test.source.startswith("assert add")


def test_student_version_replaces_each_solution_with_nbgraders_stub_and_drops_outputs():
    nb = nbformat.v4.new_notebook(cells=build.parse(EXAMPLE))
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="5\n")]
    student = build.student_version(nb)
    assert student.cells[1].source == "def add(a, b):\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert student.cells[1].outputs == [] and student.cells[2].source == nb.cells[2].source
    assert nb.cells[1].outputs and "return a + b" in nb.cells[1].source  # the original is untouched


@pytest.mark.parametrize("source, complaint", [
    ("# %% [solution]\nx = 1\n", "needs id=NAME"),
    ("# %% [solution] id=a\nx = 1\n", "BEGIN SOLUTION"),
    ("# %% [solution] id=a\n### END SOLUTION\nx = 1\n### BEGIN SOLUTION\n", "pairs"),
    ("# %% [test] id=t\nassert True\n", "points=N"),
    ("# %% [test] id=t points=0\nassert True\n", "points=N"),
    ("# %% [test] id=t points=1 extra=2\nassert True\n", "unknown option"),
    ("# %% [test] id=t points=1\n### BEGIN SOLUTION\n### END SOLUTION\n", "cannot hold a solution"),
    ("# %%\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "plain cell"),
    ("# %% [sollution] id=a\n", "unknown cell marker"),
    ("# %% [test] id=t points=1\nassert True\n# %% [test] id=t points=1\nassert True\n", "used twice: t"),
])
def test_bad_markup_is_refused_with_the_line_and_what_to_write(source, complaint):
    with pytest.raises(build.SourceError, match=complaint) as err:
        build.parse(source, "ch.py")
    assert str(err.value).startswith("ch.py")


# ---- the series ---------------------------------------------------------------------------------

def test_the_series_has_enough_points_and_every_solution_is_graded_right_after():
    total, predictions = 0, 0
    for source in SOURCES:
        meta = _grading(build.parse(source.read_text(), source.name))
        total += sum(m.get("points", 0) for m in meta)
        predictions += sum("predict" in m["grade_id"] for m in meta if m["solution"])
        for here, after in zip(meta, meta[1:] + [None]):
            if here["solution"]:
                assert after is not None and after["grade"], f"{source.name}: {here['grade_id']} has no test after it"
    assert total >= 60 and predictions >= 3, (total, predictions)
    stated = re.search(r"(\d+) points in all", (ROOT / "README.md").read_text())
    assert stated and int(stated.group(1)) == total, "the README's teachers' section states the total"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_shipped_and_student_notebooks_are_built_from_the_current_source(source):
    """``python tools/build_notebooks.py`` rebuilds both after a source changes."""
    fresh = build.convert(source)
    shipped = nbformat.read(NOTEBOOKS / f"{source.stem}.ipynb", as_version=4)
    student = nbformat.read(NOTEBOOKS / "student" / f"{source.stem}.ipynb", as_version=4)
    assert [(c.source, c.metadata.get("nbgrader")) for c in shipped.cells] == \
           [(c.source, c.metadata.get("nbgrader")) for c in fresh.cells]
    assert student == build.student_version(fresh)
    text = nbformat.writes(student)
    assert build.BEGIN not in text and build.END not in text


# ---- nbgrader itself ------------------------------------------------------------------------------

# Autograding executes every notebook twice (30-60 s each on 2 shared cores), so by default two
# chapters that between them hold every kind of check are graded: exact ids and strings and a predicted
# count (01); tensors, functions tested on inputs the student never saw, two solutions in one cell and
# a prediction within a tolerance (04). GPTVIZ_GRADE_ALL=1 grades the whole series (about 15 minutes
# here). generate_assignment always runs on every chapter (it executes nothing).
GRADED = [s.stem for s in SOURCES] if os.environ.get("GPTVIZ_GRADE_ALL") == "1" else [
    "01-tokens", "04-feed-forward"]
STUDENTS = ("solutions", "untouched")
CONFIG = f"""c.CourseDirectory.course_id = "gptviz"
c.CourseDirectory.db_assignments = [dict(name="series"), dict(name="graded")]
c.CourseDirectory.db_students = [{", ".join(f"dict(id={s!r})" for s in STUDENTS)}]
c.Execute.timeout = 600
"""


def _nbgrader(course: Path, env: dict, *args: str) -> str:
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                         capture_output=True, text=True, timeout=3600)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout + run.stderr


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course folder: the whole series as assignment "series", the GRADED chapters as "graded"; both
    generated, and "graded" submitted twice (the shipped solutions; the release, untouched) and
    autograded. Jupyter, IPython and matplotlib keep their state in a temporary folder."""
    root = tmp_path_factory.mktemp("course")
    state = tmp_path_factory.mktemp("state")
    bin_dir = str(Path(sys.executable).parent)  # nbgrader runs the `alembic` command it installs
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""), PLOTLY_RENDERER="plotly_mimetype", HF_HUB_OFFLINE="1", JUPYTER_PLATFORM_DIRS="1",
               **{name: str(state / name.lower()) for name in (
                   "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
                   "MPLCONFIGDIR", "TIKTOKEN_CACHE_DIR")})
    (root / "nbgrader_config.py").write_text(CONFIG)
    for assignment, stems in (("series", [s.stem for s in SOURCES]), ("graded", GRADED)):
        for folder in [f"source/{assignment}"] + [f"submitted/solutions/{assignment}"] * (assignment == "graded"):
            (root / folder).mkdir(parents=True)
            for stem in stems:
                shutil.copy(NOTEBOOKS / f"{stem}.ipynb", root / folder)
        _nbgrader(root, env, "generate_assignment", assignment, "--force")
    shutil.copytree(root / "release" / "graded", root / "submitted" / "untouched" / "graded")
    log = _nbgrader(root, env, "autograde", "graded", "--force")
    read = subprocess.run([sys.executable, "-c", READ_SCORES], cwd=root, env=env, capture_output=True, text=True)
    assert read.returncode == 0, read.stderr
    scores = {(student, stem): tuple(v) for student, stem, *v in json.loads(read.stdout)}
    return root, scores, log


READ_SCORES = f"""
import json
from nbgrader.api import Gradebook
with Gradebook("sqlite:///gradebook.db") as gb:
    print(json.dumps([(student, stem, nb.score, nb.max_score) for student in {STUDENTS!r} for stem in {GRADED!r}
                      for nb in [gb.find_submission_notebook(stem, "graded", student)]]))
"""


def test_generate_assignment_leaves_no_solution_and_matches_the_shipped_student_versions(course):
    root, _, _ = course
    for source in SOURCES:
        name = f"{source.stem}.ipynb"
        release = nbformat.read(root / "release" / "series" / name, as_version=4)
        text = nbformat.writes(release)
        assert build.BEGIN not in text and build.END not in text
        ours = nbformat.read(NOTEBOOKS / "student" / name, as_version=4)
        assert [c.source for c in release.cells] == [c.source for c in ours.cells], name
        shipped = nbformat.read(NOTEBOOKS / name, as_version=4)
        for solution in (c for c in shipped.cells if c.metadata.get("nbgrader", {}).get("solution")):
            body = solution.source.split(build.BEGIN, 1)[1].split(build.END, 1)[0]
            for line in filter(None, (line.strip() for line in body.splitlines())):
                assert line not in text, f"{name}: solution line {line!r} left in the release"


def test_autograde_gives_the_solutions_full_marks_and_untouched_student_versions_none(course):
    root, scores, log = course
    for student in STUDENTS:
        for stem in GRADED:
            assert (root / "autograded" / student / "graded" / f"{stem}.ipynb").exists(), \
                f"{student}/{stem} was not graded\n{log[-3000:]}"
    assert sum(scores["solutions", stem][1] for stem in GRADED) > 0
    for (student, stem), (score, max_score) in scores.items():
        expected = max_score if student == "solutions" else 0
        assert score == expected, f"{student} {stem}: {score} of {max_score}\n{log[-3000:]}"
