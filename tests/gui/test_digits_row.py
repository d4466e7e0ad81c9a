"""A conditional VAE's code at the cursor, decoded as every digit."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt

from explorer.engine import coding

from .helpers import at, pixel_of


def every_digit(window, z) -> np.ndarray:
    return coding.decode(window.state.session.model, np.repeat(z, 10, axis=0), np.arange(10))


def test_a_conditional_model_shows_every_digit_at_the_cursor_while_dragging(open_window, qtbot, gui_models):
    window = open_window()
    digits = window.digits
    assert not digits.dock.isVisible() and not window.actions.digits.isEnabled()  # a VAE has no labels
    with qtbot.waitSignal(digits.shown, timeout=10_000):
        window.models.open_path(str(gui_models / "cvae-2d-mlp.safetensors"))
    assert digits.dock.isVisible() and window.actions.digits.isEnabled()
    # before any click: the map's origin, drawn as each digit
    assert np.array_equal(digits.grid.images, every_digit(window, np.zeros((1, 2))))
    assert digits.grid.captions == [str(d) for d in range(10)]

    viewport = window.map.viewport()
    start = pixel_of(window, *at(window, 0.3, 0.3))
    qtbot.mousePress(viewport, Qt.LeftButton, pos=start)
    for step in range(1, 4):
        with qtbot.waitSignal(digits.shown, timeout=10_000):
            qtbot.mouseMove(viewport, start + QPoint(25 * step, -15 * step))
        z = window.state.shown_decode.request.z
        assert np.array_equal(digits.grid.images, every_digit(window, z))  # the same style, each digit
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=start + QPoint(75, -45))


def test_clicking_a_digit_decodes_with_that_label(open_window, qtbot, gui_models):
    window = open_window(gui_models / "cvae-2d-mlp.safetensors")
    digits = window.digits
    with qtbot.waitSignal(window.state.decoded, timeout=10_000) as clicked:
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, 0.6, 0.6)))
    z = clicked.args[0].request.z
    qtbot.waitUntil(lambda: digits.images is not None and np.array_equal(digits.images, every_digit(window, z)),
                    timeout=10_000)
    with qtbot.waitSignal(window.state.decoded, timeout=10_000) as blocker:
        qtbot.mouseClick(digits.grid, Qt.LeftButton, pos=digits.grid.rect_of(7).center())
    assert window.label_combo.currentIndex() == 7 and digits.grid.current == 7
    assert blocker.args[0].request.label == 7
    assert np.array_equal(window.decoded_view.decoded.image, digits.grid.images[7])

    window.activateWindow()
    qtbot.keyClick(window, Qt.Key_G)  # the row can be hidden, and shown again
    assert not digits.dock.isVisible()
    with qtbot.waitSignal(digits.shown, timeout=10_000):
        qtbot.keyClick(window, Qt.Key_G)
    assert digits.dock.isVisible()
