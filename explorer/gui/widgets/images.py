"""Images as Qt sees them: grey (h, w) or colour (h, w, 3) uint8 arrays to QImage and QPixmap."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def to_qimage(image: np.ndarray) -> QImage:
    """uint8 (h, w) grey or (h, w, 3) colour image -> a QImage that owns its bytes."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w = image.shape[:2]
    if image.ndim == 3:
        return QImage(image.data, w, h, 3 * w, QImage.Format_RGB888).copy()
    return QImage(image.data, w, h, w, QImage.Format_Grayscale8).copy()


def to_pixmap(image: np.ndarray, scale: int = 1) -> QPixmap:
    """uint8 (h, w) grey or (h, w, 3) colour image -> QPixmap, enlarged by nearest neighbour so pixels
    stay crisp."""
    qimage = to_qimage(image)
    h, w = image.shape[:2]
    if scale != 1:
        qimage = qimage.scaled(w * scale, h * scale, Qt.IgnoreAspectRatio, Qt.FastTransformation)
    return QPixmap.fromImage(qimage)
