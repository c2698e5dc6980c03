"""The end-of-run answer table marks which held-out answers are exactly right, new or lost."""

from evosweep.outputs.summary import sample_table, summary_table


def test_answers_table_marks_right_new_and_lost_answers():
    table = sample_table(["p1", "p2", "p3", "p4"], ["cat", "dog", "tea", "salt"],
                         ["cat", "x", "y", "Salt!"], ["Cat.", "dog", "z", "soul"])
    rows = table.splitlines()
    assert rows[0] == "| prompt | reference | base | evolved | right |"
    assert rows[2].endswith("| ✓ |") and rows[3].endswith("| ✓ (new) |")
    assert rows[4].endswith("|  |") and rows[5].endswith("| lost |")


def test_answers_table_keeps_cells_on_one_line():
    table = sample_table(["a | b"], ["x"], ["line\nbreak"], ["y"])
    assert table.splitlines()[2] == "| a / b | x | line break | y |  |"


def test_summary_columns_align():
    lines = summary_table([("a", "1"), ("longer name", "2")]).splitlines()
    assert len({line.index("|", 1) for line in lines}) == 1
