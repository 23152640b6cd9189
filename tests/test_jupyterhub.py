"""A class on one real JupyterHub (``hub/``, issue 25): N students (``GPTVIZ_HUB_STUDENTS``, default 2) log
in, follow the nbgitpuller link, run the sampling chapter and move its sliders; then each fault of a lesson,
one test each, on the same hub, in this order. ``benchmarks/classroom.py`` does the same work for more
students and prints the figures; these tests assert what must hold.

They need Node and JupyterHub's proxy (``make hub-proxy``): without them they skip, or fail when
``GPTVIZ_REQUIRE_HUB=1`` (as in CI).
"""

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.hub

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("classroom", REPO / "benchmarks" / "classroom.py")
classroom = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(classroom)

STUDENTS = int(os.environ.get("GPTVIZ_HUB_STUDENTS", "2"))


def _missing() -> str:
    if shutil.which("node") is None:
        return "node is not on PATH (JupyterHub's proxy runs on Node >= 18)"
    if not classroom.PROXY.exists():
        return f"JupyterHub's proxy is not installed ({classroom.PROXY}): run `make hub-proxy`"
    return ""


@pytest.fixture(scope="module")
def room():
    missing = _missing()
    if missing:
        if os.environ.get("GPTVIZ_REQUIRE_HUB") == "1":
            pytest.fail(f"GPTVIZ_REQUIRE_HUB=1 but {missing}", pytrace=False)
        pytest.skip(f"hub tests need a JupyterHub proxy; {missing}")
    with classroom.Classroom(STUDENTS) as class_room:
        class_room.lesson_errors = class_room.each(lambda s: s.lesson([classroom.SAMPLING]))
        yield class_room


@pytest.fixture
def lesson(room):
    """The class after the lesson; a test of a fault fails at once if a student could not do the lesson."""
    failed = {s.name: repr(e) for s, e in zip(room.students, room.lesson_errors) if e is not None}
    assert not failed, f"students failed the lesson: {failed}"
    return room


def test_every_student_runs_the_chapter_and_moves_the_sliders(lesson):
    for s in lesson.students:
        assert s.cell_ms and len(s.slider_ms) == 2 * classroom.MOVES, s.name
        assert (lesson.hub.state / "homes" / s.name / "gptviz" / classroom.SAMPLING).exists()


def test_a_killed_kernel_leaves_the_others_alone_and_restarts(lesson):
    ok, seen = classroom.fault_kernel_killed(lesson)
    assert ok, seen
    assert "others' errors=0" in seen and "died" in seen


def test_a_huge_paste_keeps_the_others_sliders_under_twice_their_time(lesson):
    baseline = classroom.percentile([ms for s in lesson.students for ms in s.slider_ms], 95)
    ok, p95, seen = classroom.fault_big_paste(lesson, baseline)
    assert ok, f"{seen}; others' slider p95 {p95:.0f} ms during the paste, {baseline:.0f} ms without"


def test_the_hub_restarts_mid_lesson_and_nothing_is_lost(lesson):
    proxy = classroom.classhub.proxy_pid(lesson.hub.state)
    ok, seen = classroom.fault_hub_restart(lesson)
    assert ok, seen
    assert classroom.classhub.proxy_pid(lesson.hub.state) == proxy, "the proxy did not outlive the hub"


def test_a_teacher_update_arrives_and_keeps_the_students_edits(lesson):
    ok, seen = classroom.fault_teacher_update(lesson)
    assert ok, seen
