"""The test-only kill points: they fire exactly where EVOSWEEP_TEST_KILL_AT says, never unset."""

from __future__ import annotations

import pytest

from evosweep import testing_hooks
from evosweep.testing_hooks import ENV, kill_point


@pytest.fixture
def deaths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each kill recorded instead of done; the hit counts start from zero."""
    died: list[str] = []
    monkeypatch.setattr(testing_hooks, "die", lambda: died.append("killed"))
    monkeypatch.setattr(testing_hooks, "_reached", {})
    return died


def test_unset_nothing_happens(deaths: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    for generation in range(3):
        kill_point("generation.saved", generation)
    assert deaths == [] and testing_hooks._reached == {}  # noqa: SLF001 - not even counted


def test_an_indexed_point_fires_at_its_index_only(deaths: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "generation.saved@2")
    for generation in range(2):
        kill_point("generation.saved", generation)
        kill_point("generation.told", 2)  # another point, same index
    assert deaths == []
    kill_point("generation.saved", 2)
    assert deaths == ["killed"]


def test_a_point_without_index_counts_its_hits_from_zero(deaths: list[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "checkpoint.mid_write@2")
    kill_point("checkpoint.mid_write")
    kill_point("checkpoint.after_write")
    kill_point("checkpoint.mid_write")
    assert deaths == []
    kill_point("checkpoint.mid_write")  # the third write
    assert deaths == ["killed"]


def test_a_point_named_without_index_fires_at_its_first_hit(deaths: list[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "sweep.job_returned")
    kill_point("sweep.job_returned", 7)
    assert deaths == ["killed"]
