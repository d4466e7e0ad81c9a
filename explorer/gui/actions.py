"""The window's actions: menus, toolbar and keyboard shortcuts, from one table."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMessageBox

ZOOM_STEP = 0.8

SHORTCUTS = (  # (action attribute, keys, what it does): the menus, the help box and the README's table
    ("open_action", "Ctrl+O", "Open a checkpoint"),
    ("save_action", "Ctrl+S", "Save the current model"),
    ("train_action", "Ctrl+T", "Train a new model"),
    ("export_grid_action", "Ctrl+E", "Export a decoded grid"),
    ("export_strip_action", "Ctrl+Shift+E", "Export the filmstrip (PNG or GIF)"),
    ("export_map_action", "Ctrl+Shift+M", "Export the map as PNG"),
    ("save_path_action", "Ctrl+P", "Save the path (JSON)"),
    ("open_path_action", "Ctrl+Shift+P", "Open a path (JSON)"),
    ("undo_action", "Ctrl+Z", "Undo the last edit (path or selection)"),
    ("redo_action", "Ctrl+Shift+Z", "Redo"),
    ("explore_action", "Esc", "Explore tool: click or drag to decode"),
    ("line_action", "L", "Path tool: drag a straight line"),
    ("freehand_action", "F", "Path tool: draw a freehand path"),
    ("waypoint_action", "W", "Path tool: click waypoints, drag one to move it, right-click to delete it"),
    ("clear_path_action", "Del", "Clear the path (waypoint tool: the waypoint under the pointer)"),
    ("select_action", "S", "Select tool: drag a box, or a lasso (S again switches)"),
    ("select_all_action", "Ctrl+A", "Select every point shown"),
    ("clear_selection_action", "Ctrl+Shift+A", "Clear the selection"),
    ("decode_mean_action", "M", "Decode the mean code of the selection"),
    ("attribute_action", "Ctrl+Shift+T", "Show the attribute arithmetic panel"),
    ("play_action", "Space", "Play or pause the path animation"),
    ("manifold_action", "B", "Show the decoded manifold behind the points"),
    ("prior_action", "N", "Show the prior N(0, I) contours"),
    ("points_action", "D", "Show the data points"),
    ("confidence_action", "Y", "Colour the map by decodability (the digit classifier's confidence)"),
    ("neighbours_action", "K", "Show the k nearest images to the decoded point"),
    ("digits_action", "G", "Show every digit at the cursor (conditional VAE)"),
    ("compare_action", "Ctrl+Shift+C", "Compare two models side by side"),
    ("code_dock_action", "Z", "Show the latent code sliders"),
    ("reset_action", "Home", "Reset the view to the data"),
    ("zoom_in_action", "+", "Zoom in"),
    ("zoom_out_action", "-", "Zoom out"),
    ("help_action", "F1", "Show the keyboard shortcuts"),
    ("quit_action", "Ctrl+Q", "Quit"),
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


def install(window) -> None:
    """Create the window's actions as attributes (window.open_action, ...), its menus and toolbar."""

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
        setattr(window, name, action)
        return action

    exports, view_box = window.exports, window.map.view
    file_menu = window.menuBar().addMenu("&File")
    for item in (act("open_action", "&Open checkpoint…", window.ask_open),
                 act("save_action", "&Save model as…", window.ask_save),
                 act("train_action", "&Train new model…", window.show_train_dialog), None,
                 act("open_path_action", "Open &path…", window.path_editor.ask_open),
                 act("save_path_action", "Save pat&h as…", window.path_editor.ask_save), None,
                 act("export_grid_action", "Export decoded &grid…", exports.ask_grid),
                 act("export_strip_action", "Export &filmstrip…", exports.ask_strip),
                 act("export_map_action", "Export &map image…", exports.ask_map),
                 act("export_codes_action", "Export &embeddings…", exports.ask_codes),
                 act("export_selection_action", "Export se&lection…", window.selecting.ask_export), None,
                 act("quit_action", "&Quit", window.close)):
        file_menu.addAction(item) if item else file_menu.addSeparator()

    edit = window.menuBar().addMenu("&Edit")
    edit.addAction(act("undo_action", "&Undo", window.undo_stack.undo))
    edit.addAction(act("redo_action", "&Redo", window.undo_stack.redo))
    window.undo_stack.changed.connect(lambda: show_undo(window))
    show_undo(window)

    view = window.menuBar().addMenu("&View")
    for layer, name, text, on in (("points", "points_action", "Data &points", True),
                                  ("manifold", "manifold_action", "Decoded &manifold", False),
                                  ("prior", "prior_action", "Prior N(0, I) &contours", False)):
        view.addAction(act(name, text, lambda shown, layer=layer: window.show_layer(layer, shown), True, on))
    view.addAction(act("confidence_action", "Deco&dability colouring", window.decodability.set_shown, True))
    view.addSeparator()
    view.addAction(act("reset_action", "&Reset view", window.reset_view))
    view.addAction(act("zoom_in_action", "Zoom &in", lambda: view_box.scaleBy((ZOOM_STEP, ZOOM_STEP))))
    view.addAction(act("zoom_out_action", "Zoom &out", lambda: view_box.scaleBy((1 / ZOOM_STEP, 1 / ZOOM_STEP))))
    window.zoom_in_action.setShortcuts([QKeySequence("+"), QKeySequence("="), QKeySequence.ZoomIn])
    window.zoom_out_action.setShortcuts([QKeySequence("-"), QKeySequence.ZoomOut])
    view.addSeparator()
    keyed = {"neighbours_action": window.neighbours.dock, "digits_action": window.digits.dock,
             "attribute_action": window.attributes.dock, "code_dock_action": window.code_dock}
    for dock in window.findChildren(QDockWidget):
        if dock not in keyed.values():
            view.addAction(dock.toggleViewAction())
    for name, dock in keyed.items():
        view.addAction(act(name, dock.windowTitle(), lambda dock=dock: show_or_hide(dock)))
    window.digits_action.setEnabled(False)  # until a conditional model is open

    tools = window.menuBar().addMenu("&Tools")
    group = QActionGroup(window)
    for name, text, tool in (("explore_action", "&Explore (decode)", "explore"),
                             ("line_action", "Straight &line path", "line"),
                             ("freehand_action", "&Freehand path", "freehand"),
                             ("waypoint_action", "&Waypoint path", "waypoint")):
        group.addAction(act(name, text, lambda on, tool=tool: on and window.set_tool(tool), True, tool == "explore"))
        tools.addAction(getattr(window, name))
    # S chooses the select tool, and again switches box and lasso: handled on trigger, as the group's
    # toggle would already have moved the check mark
    group.addAction(act("select_action", "&Select (box or lasso)", lambda on: None, True))
    window.select_action.triggered.connect(window.selecting.select_key)
    tools.addAction(window.select_action)
    tools.addSeparator()
    selecting = window.selecting
    for item in (act("select_all_action", "Select &all shown", selecting.select_all),
                 act("clear_selection_action", "Clear selectio&n", selecting.clear),
                 act("decode_mean_action", "Decode the selection's &mean", selecting.decode_mean)):
        tools.addAction(item)
    tools.addSeparator()
    tools.addAction(act("clear_path_action", "&Clear path", window.path_editor.delete))
    tools.addAction(act("play_action", "&Play / pause path", window.filmstrip.play.toggle))
    tools.addSeparator()
    tools.addAction(act("compare_action", "&Compare models…", window.show_compare))

    window.menuBar().addMenu("&Help").addAction(act("help_action", "&Keyboard shortcuts",
                                                    lambda: show_shortcuts(window)))

    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main toolbar")
    toolbar.setMovable(False)
    for item in (("open_action", "Open"), ("train_action", "Train"), None, ("explore_action", "Explore"),
                 ("line_action", "Line"), ("freehand_action", "Freehand"), ("waypoint_action", "Waypoints"),
                 ("select_action", "Select"), None, ("points_action", "Points"), ("manifold_action", "Manifold"),
                 ("prior_action", "Prior"), ("confidence_action", "Decodability"), ("reset_action", "Reset view"),
                 None):
        if item is None:
            toolbar.addSeparator()
            continue
        action, short = getattr(window, item[0]), item[1]
        action.setIconText(short)  # the toolbar's label; menus keep the full text
        toolbar.addAction(action)
    window.label_text = toolbar.addWidget(QLabel(" Decode as "))
    window.label_widget = toolbar.addWidget(window.label_combo)


def show_or_hide(dock) -> None:
    """A panel's key: shows it, or brings its tab to the front; hides it when it is already in view."""
    if dock.isVisible() and not dock.visibleRegion().isEmpty():
        dock.hide()
    else:
        dock.show()
        dock.raise_()


def show_undo(window) -> None:
    """Name what Undo and Redo would do, and disable them when there is nothing."""
    for action, verb, text in ((window.undo_action, "Undo", window.undo_stack.undo_text()),
                               (window.redo_action, "Redo", window.undo_stack.redo_text())):
        action.setEnabled(text is not None)
        action.setText(f"&{verb} {text.lower()}" if text else f"&{verb}")


def show_shortcuts(window) -> None:
    rows = [(keys, what) for _, keys, what in SHORTCUTS] + list(MOUSE)
    table = "".join(f"<tr><td><b>{keys}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>" for keys, what in rows)
    box = QMessageBox(QMessageBox.Information, "Keyboard shortcuts", f"<table>{table}</table>", QMessageBox.Ok,
                      window)
    box.setModal(False)
    box.setAttribute(Qt.WA_DeleteOnClose)
    box.show()
