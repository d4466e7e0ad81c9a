"""The window's actions: menus, toolbar and keyboard shortcuts, from one table."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout

ZOOM_STEP = 0.8

SHORTCUTS = (  # (action name, keys, what it does): the menus, the help box and the README's table
    ("open", "Ctrl+O", "Open a checkpoint"),
    ("save", "Ctrl+S", "Save the current model"),
    ("train", "Ctrl+T", "Train a new model"),
    ("export_grid", "Ctrl+E", "Export a decoded grid"),
    ("export_strip", "Ctrl+Shift+E", "Export the filmstrip (PNG or GIF)"),
    ("export_map", "Ctrl+Shift+M", "Export the map as PNG"),
    ("save_path", "Ctrl+P", "Save the path (JSON)"),
    ("open_path", "Ctrl+Shift+P", "Open a path (JSON)"),
    ("undo", "Ctrl+Z", "Undo the last edit (path or selection)"),
    ("redo", "Ctrl+Shift+Z", "Redo"),
    ("explore", "Esc", "Explore tool: click or drag to decode (in a number field: leave it)"),
    ("line", "L", "Path tool: drag a straight line"),
    ("freehand", "F", "Path tool: draw a freehand path"),
    ("waypoint", "W", "Path tool: click waypoints, drag one to move it, right-click to delete it"),
    ("new_path", "Ctrl+N", "New path: clear the path, then click its waypoints"),
    ("clear_path", "Del", "Clear the path (waypoint tool: the waypoint under the pointer)"),
    ("select", "S", "Select tool: drag a box, or a lasso (S again switches)"),
    ("select_all", "Ctrl+A", "Select every point shown"),
    ("clear_selection", "Ctrl+Shift+A", "Clear the selection"),
    ("decode_mean", "M", "Decode the mean code of the selection"),
    ("attribute", "Ctrl+Shift+T", "Show the attribute arithmetic panel"),
    ("play", "Space", "Play or pause the path animation"),
    ("manifold", "B", "Show the decoded manifold behind the points"),
    ("prior", "N", "Show the prior N(0, I) contours"),
    ("points", "D", "Show the data points"),
    ("confidence", "Y", "Colour the map by decodability (the digit classifier's confidence)"),
    ("neighbours", "K", "Show the k nearest images to the decoded point"),
    ("digits", "G", "Show every digit at the cursor (conditional VAE)"),
    ("compare", "Ctrl+Shift+C", "Compare two models side by side"),
    ("code_dock", "Z", "Show the latent code sliders"),
    ("reset", "Home", "Reset the view to the data"),
    ("zoom_in", "+", "Zoom in"),
    ("zoom_out", "-", "Zoom out"),
    ("help", "F1", "Show the keyboard shortcuts"),
    ("quit", "Ctrl+Q", "Quit"),
)
ELSEWHERE = (  # keys of windows other than the main one, listed with its own in the help box
    ("Esc / Ctrl+W", "Close the compare view (in it: B background, D points, Home reset view)"),
)
MOUSE = (
    ("Click, drag", "Decode there (Explore tool) or draw a path (path tools)"),
    ("Shift / Ctrl or Alt + drag", "Select tool: add to / take away from the selection (Shift+Ctrl: keep both)"),
    ("Right click a waypoint", "Delete it (waypoint tool)"),
    ("Wheel, right drag", "Zoom"),
    ("Shift+drag, middle drag", "Pan (with the Select tool: middle drag)"),
    ("Hover a point", "Its original image and label (up to six where points overlap)"),
)
KEYS = {name: keys for name, keys, _ in SHORTCUTS}


class Actions:
    """The window's actions by name (actions.open, actions.undo, ...), and the toolbar's label picker."""

    def __init__(self):
        self.by_name: dict[str, QAction] = {}

    def add(self, name: str, action: QAction) -> QAction:
        self.by_name[name] = action
        setattr(self, name, action)
        return action


def install(window) -> Actions:
    """Create the window's actions, menus and toolbar from its parts; returns the actions by name."""
    actions = Actions()

    def act(name, text, slot, checkable=False, checked=False) -> QAction:
        action = QAction(text, window)
        if name in KEYS:
            action.setShortcut(QKeySequence(KEYS[name]))
            action.setToolTip(f"{text} ({KEYS[name]})")
        action.setCheckable(checkable)
        action.setChecked(checked)
        if checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda checked=False: slot())
        window.addAction(action)  # shortcuts work wherever the focus is in the window
        return actions.add(name, action)

    a, exports, view_box, history = actions, window.exports, window.map.view, window.state.history
    file_menu = window.menuBar().addMenu("&File")
    for item in (act("open", "&Open checkpoint…", window.ask_open),
                 act("save", "&Save model as…", window.saving.ask_save),
                 act("train", "&Train new model…", window.training.show_dialog), None,
                 act("open_path", "Open &path…", window.path_editor.ask_open),
                 act("save_path", "Save pat&h as…", window.path_editor.ask_save), None,
                 act("export_grid", "Export decoded &grid…", exports.ask_grid),
                 act("export_strip", "Export &filmstrip…", exports.ask_strip),
                 act("export_map", "Export &map image…", exports.ask_map),
                 act("export_codes", "Export &embeddings…", exports.ask_codes),
                 act("export_selection", "Export se&lection…", window.selecting.ask_export), None,
                 act("quit", "&Quit", window.close)):
        file_menu.addAction(item) if item else file_menu.addSeparator()

    edit = window.menuBar().addMenu("&Edit")
    edit.addAction(act("undo", "&Undo", history.undo))
    edit.addAction(act("redo", "&Redo", history.redo))
    history.changed.connect(lambda: show_undo(a, history))
    show_undo(a, history)

    view = window.menuBar().addMenu("&View")
    for layer, text, on in (("points", "Data &points", True), ("manifold", "Decoded &manifold", False),
                            ("prior", "Prior N(0, I) &contours", False)):
        view.addAction(act(layer, text, lambda shown, layer=layer: window.show_layer(layer, shown), True, on))
    decodability = window.decodability
    view.addAction(act("confidence", "Deco&dability colouring", decodability.set_shown, True))
    decodability.turned_off.connect(lambda: a.confidence.setChecked(False))
    decodability.availability.connect(lambda reason: show_availability(a.confidence, reason))
    view.addSeparator()
    view.addAction(act("reset", "&Reset view", window.reset_view))
    view.addAction(act("zoom_in", "Zoom &in", lambda: view_box.scaleBy((ZOOM_STEP, ZOOM_STEP))))
    view.addAction(act("zoom_out", "Zoom &out", lambda: view_box.scaleBy((1 / ZOOM_STEP, 1 / ZOOM_STEP))))
    a.zoom_in.setShortcuts([QKeySequence("+"), QKeySequence("="), QKeySequence.ZoomIn])
    a.zoom_out.setShortcuts([QKeySequence("-"), QKeySequence.ZoomOut])
    view.addSeparator()
    keyed = {"neighbours": window.neighbours.dock, "digits": window.digits.dock,
             "attribute": window.attributes.dock, "code_dock": window.code_dock}
    for dock in window.docks.all():
        if dock not in keyed.values():
            view.addAction(dock.toggleViewAction())
    for name, dock in keyed.items():
        view.addAction(act(name, dock.windowTitle(), lambda dock=dock: show_or_hide(dock)))
    a.digits.setEnabled(False)  # until a conditional model is open
    window.digits.available.connect(a.digits.setEnabled)

    tools = window.menuBar().addMenu("&Tools")
    group = QActionGroup(window)
    for name, text in (("explore", "&Explore (decode)"), ("line", "Straight &line path"),
                       ("freehand", "&Freehand path"), ("waypoint", "&Waypoint path")):
        group.addAction(act(name, text, lambda on, tool=name: on and window.set_tool(tool), True, name == "explore"))
        tools.addAction(a.by_name[name])
    # S chooses the select tool, and again switches box and lasso: handled on trigger, as the group's
    # toggle would already have moved the check mark
    group.addAction(act("select", "&Select (box or lasso)", lambda on: None, True))
    selecting = window.selecting
    a.select.triggered.connect(selecting.select_key)
    tools.addAction(a.select)
    tools.addSeparator()
    for item in (act("select_all", "Select &all shown", selecting.select_all),
                 act("clear_selection", "Clear selectio&n", selecting.clear),
                 act("decode_mean", "Decode the selection's &mean", selecting.decode_mean)):
        tools.addAction(item)
    for name in ("clear_selection", "decode_mean", "export_selection"):
        selecting.actions_enabled.connect(a.by_name[name].setEnabled)
    selecting.refresh()  # now that its actions listen
    tools.addSeparator()
    tools.addAction(act("new_path", "&New path", lambda: (window.path_editor.new_path(), window.set_tool("waypoint"))))
    tools.addAction(act("clear_path", "&Clear path", window.path_editor.delete))
    tools.addAction(act("play", "&Play / pause path", window.filmstrip.play.toggle))
    tools.addSeparator()
    tools.addAction(act("compare", "&Compare models…", window.show_compare))

    window.menuBar().addMenu("&Help").addAction(act("help", "&Keyboard shortcuts", lambda: show_shortcuts(window)))

    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main toolbar")
    toolbar.setMovable(False)
    for item in (("open", "Open"), ("train", "Train"), None, ("explore", "Explore"), ("line", "Line"),
                 ("freehand", "Freehand"), ("waypoint", "Waypoints"), ("select", "Select"), None,
                 ("points", "Points"), ("manifold", "Manifold"), ("prior", "Prior"), ("confidence", "Decodability"),
                 ("reset", "Reset view"), None):
        if item is None:
            toolbar.addSeparator()
            continue
        action = a.by_name[item[0]]
        action.setIconText(item[1])  # the toolbar's label; menus keep the full text
        toolbar.addAction(action)
    a.label_text = toolbar.addWidget(QLabel(" Decode as "))
    a.label_picker = toolbar.addWidget(window.label_combo)
    return actions


def show_availability(action: QAction, reason: str | None) -> None:
    """Enable an action, or disable it and say why in its tooltip."""
    text = "Colour the map by how recognisable its decodes are (Y)"
    action.setEnabled(reason is None)
    action.setToolTip(text if reason is None else f"{text}; unavailable: {reason}")
    action.setStatusTip(action.toolTip())


def show_or_hide(dock) -> None:
    """A panel's key: shows it, or brings its tab to the front; hides it when it is already in view."""
    if dock.isVisible() and not dock.visibleRegion().isEmpty():
        dock.hide()
    else:
        dock.show()
        dock.raise_()


def show_undo(actions: Actions, history) -> None:
    """Name what Undo and Redo would do, and disable them when there is nothing."""
    for action, verb, text in ((actions.undo, "Undo", history.undo_text()),
                               (actions.redo, "Redo", history.redo_text())):
        action.setEnabled(text is not None)
        action.setText(f"&{verb} {text.lower()}" if text else f"&{verb}")


def show_shortcuts(window) -> None:
    """Every key in two columns (in one, the list ran past the bottom of a 720 px screen), not modal."""
    rows = [(keys, what) for _, keys, what in SHORTCUTS] + list(ELSEWHERE) + list(MOUSE)
    half = (len(rows) + 1) // 2
    columns = ["".join(f"<tr><td><b>{keys}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>" for keys, what in part)
               for part in (rows[:half], rows[half:])]
    text = "<table><tr>" + "".join(f"<td valign='top'><table>{c}</table></td><td>&nbsp;&nbsp;&nbsp;&nbsp;</td>"
                                   for c in columns) + "</tr></table>"
    box = QDialog(window)
    box.setWindowTitle("Keyboard shortcuts")
    label = QLabel(text)
    label.setTextFormat(Qt.RichText)
    buttons = QDialogButtonBox(QDialogButtonBox.Ok)
    buttons.accepted.connect(box.accept)
    layout = QVBoxLayout(box)
    layout.addWidget(label)
    layout.addWidget(buttons)
    box.setModal(False)
    box.setAttribute(Qt.WA_DeleteOnClose)
    box.show()
