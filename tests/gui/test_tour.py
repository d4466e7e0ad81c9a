"""The README's tour, step by step, as a new user follows it: each step asserts what the README says
happens, so the text and the window cannot drift apart (its toggles once said "press B again" where B
hid the manifold, and K and G hid panels the tour meant to show)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from .helpers import at, drag, pixel_of


def press(qtbot, window, key, modifiers=Qt.NoModifier) -> None:
    qtbot.keyClick(window.map, key, modifiers)


def pick_model(qtbot, window, gui_models, name: str) -> None:
    """Click the model's row in the Models list."""
    lst, key = window.model_list, str(gui_models / f"{name}.safetensors")
    row = next(lst.topLevelItem(k) for k in range(lst.topLevelItemCount())
               if lst.topLevelItem(k).data(0, Qt.UserRole) == key)
    with qtbot.waitSignal(window.state.session_changed, timeout=20_000):
        qtbot.mouseClick(lst.viewport(), Qt.LeftButton, pos=lst.visualItemRect(row).center())
    assert window.state.session.name == name


def in_view(dock) -> bool:
    """Shown and in front of any dock tabbed with it."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def test_the_readmes_tour_does_what_it_says(open_window, qtbot, gui_models):
    window = open_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    a, view = window.actions, window.decoded_view

    # "Click anywhere on the map: the decoded image appears on the right, beside the nearest real digit."
    with qtbot.waitSignal(window.state.decoded, timeout=10_000):
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, 0.5, 0.5)))
    assert view.decoded.image is not None and view.nearest.image is not None

    # "Press B to tile the decoded manifold under the points. Then pick ae-2d-mlp in the Models list: the
    # manifold stays on (B hides it again)." "N draws the VAE prior's circles."
    press(qtbot, window, Qt.Key_B)
    qtbot.waitUntil(lambda: window.map.background.image is not None and window.map.background.isVisible(),
                    timeout=10_000)
    press(qtbot, window, Qt.Key_N)
    assert a.prior.isChecked() and window.map.prior.isVisible()
    pick_model(qtbot, window, gui_models, "ae-2d-mlp")
    assert a.manifold.isChecked() and window.map.background.isVisible()  # the autoencoder's own manifold
    press(qtbot, window, Qt.Key_B)
    assert not a.manifold.isChecked() and not window.map.background.isVisible()
    pick_model(qtbot, window, gui_models, "vae-2d-mlp")

    # "Press L and drag from one cluster to another: the filmstrip shows the decodes along the line. Change
    # Steps, press Space to play."
    press(qtbot, window, Qt.Key_L)
    with qtbot.waitSignal(window.state.path_decoded, timeout=10_000):
        drag(qtbot, window.map.viewport(), [pixel_of(window, *at(window, *f)) for f in ((0.2, 0.3), (0.8, 0.7))])
    window.filmstrip.steps.setValue(14)
    qtbot.waitUntil(lambda: len(window.filmstrip.frames) == 14, timeout=10_000)
    assert in_view(window.filmstrip_dock)
    press(qtbot, window, Qt.Key_Space)
    assert window.filmstrip.play.isChecked()
    press(qtbot, window, Qt.Key_Space)
    assert not window.filmstrip.play.isChecked()

    # "Press W and click from cluster to cluster to lay waypoints."
    press(qtbot, window, Qt.Key_N, Qt.ControlModifier)
    press(qtbot, window, Qt.Key_W)
    with qtbot.waitSignal(window.state.path_decoded, timeout=10_000):
        for f in ((0.2, 0.2), (0.5, 0.8), (0.8, 0.3)):
            qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, *f)))
    qtbot.waitUntil(lambda: window.state.path_result is not None and
                    len(window.state.path_result.request.waypoints) == 3, timeout=10_000)
    press(qtbot, window, Qt.Key_Escape)

    # "Press Y to colour the map by decodability: a colour bar replaces the legend."
    press(qtbot, window, Qt.Key_Y)
    assert a.confidence.isChecked() and window.map_panel.shown_key() is window.decodability.bar
    press(qtbot, window, Qt.Key_Y)
    assert window.map_panel.shown_key() is window.map_panel.legend

    # "The Neighbours panel, open under the decode (K hides it and shows it again)."
    neighbours = window.neighbours.dock
    assert in_view(neighbours)
    press(qtbot, window, Qt.Key_K)
    assert not neighbours.isVisible()
    press(qtbot, window, Qt.Key_K)
    assert in_view(neighbours)

    # "In cvae-2d-mlp ... the row Every digit at the cursor opens under the map (G hides it and shows it again)."
    pick_model(qtbot, window, gui_models, "cvae-2d-mlp")
    digits = window.digits.dock
    assert digits.isVisible() and a.label_picker.isVisible()
    press(qtbot, window, Qt.Key_G)
    assert not digits.isVisible()
    press(qtbot, window, Qt.Key_G)
    assert in_view(digits)

    # "The Latent code dock (Z) shows the code at the cursor on one slider per dimension."
    press(qtbot, window, Qt.Key_Z)
    assert in_view(window.code_dock) and len(window.code_panel.sliders) == 2  # cvae-2d-mlp's

    # "Ctrl+Shift+C opens the compare view: ae-2d-mlp beside vae-2d-mlp."
    press(qtbot, window, Qt.Key_C, Qt.ControlModifier | Qt.ShiftModifier)
    compare = window.compare
    qtbot.waitExposed(compare)
    qtbot.waitUntil(lambda: all(c.session is not None for c in compare.shown), timeout=20_000)
    assert compare.isVisible() and (compare.left.session.name, compare.right.session.name) == ("ae-2d-mlp",
                                                                                               "vae-2d-mlp")
    screen = compare.screen().availableGeometry()
    assert compare.width() <= screen.width() and compare.height() <= screen.height()
    qtbot.waitUntil(compare.isActiveWindow, timeout=5000)
    qtbot.keyClick(compare, Qt.Key_Escape)
    qtbot.waitUntil(lambda: not compare.isVisible(), timeout=5000)

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    # "Ctrl+Shift+T opens attribute arithmetic." "Ctrl+T trains a new model in a panel beside the map."
    press(qtbot, window, Qt.Key_T, Qt.ControlModifier | Qt.ShiftModifier)
    assert in_view(window.attributes.dock)
    press(qtbot, window, Qt.Key_T, Qt.ControlModifier)
    assert in_view(window.train_dock) and not window.train_dock.isFloating()

    # "Open vae-16d-mlp: the map is the plane along its first two principal axes. Pick other axes in the header."
    pick_model(qtbot, window, gui_models, "vae-3d-mlp")
    assert window.map_panel.axes_box.isVisible() and window.map_panel.axis_u.count() == 3
