"""The picture view paints a BGR array in its true colours, from views that are not contiguous too."""

from __future__ import annotations

import numpy as np

from app.widgets.image_view import ImageView, bgr_to_qimage


def test_bgr_pixels_keep_their_colours_and_the_copy_owns_them(qtbot):
    img = np.zeros((5, 8, 3), np.uint8)
    img[..., 0] = 255  # blue, in OpenCV's channel order
    img[1, 2] = (0, 0, 255)  # one red pixel
    img[4, 7] = (0, 200, 0)
    q = bgr_to_qimage(img[:, 1:])  # a column-sliced view: not contiguous
    assert (q.width(), q.height()) == (7, 5)
    assert q.pixelColor(0, 0).name() == "#0000ff" and q.pixelColor(1, 1).name() == "#ff0000"
    assert q.pixelColor(6, 4).name() == "#00c800"
    img[:] = 0  # the caller reuses its buffer: the picture keeps its own copy
    assert q.pixelColor(0, 0).name() == "#0000ff"
    view = ImageView()
    qtbot.addWidget(view)
    view.show_image(img[:, 1:])
    assert view.painted == 1 and view.pixmap_item.pixmap().toImage().pixelColor(0, 0).name() == "#000000"
