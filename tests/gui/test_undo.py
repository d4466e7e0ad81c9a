"""The undo history: edits undone newest first, redone in order, a new edit drops what was undone."""

from explorer.gui.undo import UndoStack


def test_undo_and_redo_walk_the_history_and_name_the_edit(qapp):
    state = [0]
    stack = UndoStack()
    changes = []
    stack.changed.connect(lambda: changes.append((stack.undo_text(), stack.redo_text())))

    def edit(value, text):
        before = state[0]
        state[0] = value
        stack.push(text, lambda: state.__setitem__(0, before), lambda: state.__setitem__(0, value))

    edit(1, "Add waypoint")
    edit(2, "Move waypoint")
    assert stack.undo_text() == "Move waypoint" and stack.redo_text() is None
    stack.undo()
    assert state[0] == 1 and stack.redo_text() == "Move waypoint"
    stack.undo()
    stack.undo()  # nothing left: nothing happens
    assert state[0] == 0 and stack.undo_text() is None
    stack.redo()
    assert state[0] == 1
    edit(5, "Clear path")  # a new edit: the undone move can no longer be redone
    assert stack.redo_text() is None
    stack.redo()
    assert state[0] == 5
    assert changes[0] == ("Add waypoint", None) and changes[-1] == ("Clear path", None)
    stack.clear()
    assert stack.undo_text() is None and stack.redo_text() is None


def test_the_oldest_edits_go_beyond_the_limit(qapp):
    stack = UndoStack(limit=3)
    undone = []
    for k in range(5):
        stack.push(f"edit {k}", lambda k=k: undone.append(k), lambda: None)
    for _ in range(5):
        stack.undo()
    assert undone == [4, 3, 2]
