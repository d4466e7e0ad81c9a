"""The training timeline under the map: scrubbed, played and exported; recorded by runs in the window."""

import numpy as np
from PIL import Image

from explorer.data.datasets import load_split
from explorer.engine import checkpoint, coding, timeline
from explorer.engine.config import ModelConfig, TrainConfig
from explorer.engine.models import build_model


def checkpoint_with_timeline(path, small_root, epochs=3):
    test = load_split("mnist", "test", small_root)
    model = build_model(ModelConfig(kind="vae", latent_dim=3), seed=0)
    rng = np.random.default_rng(0)
    index = timeline.sample_index(len(test))
    recorded = timeline.Timeline(index, rng.normal(size=(epochs, len(index), 3)).astype(np.float32))
    checkpoint.save(path, model, {"dataset": "mnist", "epochs": epochs},
                    coding.infer_stats(model, test.images, test.labels), timeline=recorded)
    return path


def test_a_recorded_run_replays_under_the_map_and_exports_as_a_gif(open_window, small_root, tmp_path, qtbot):
    window = open_window(checkpoint_with_timeline(tmp_path / "run.safetensors", small_root))
    panel = window.timeline
    assert panel.dock.isVisible() and panel.slider.maximum() == 3 and panel.slider.value() == 3
    assert panel.caption.text() == "epoch 3 of 3"
    last = panel.positions[2]
    panel.slider.setValue(1)
    assert panel.caption.text() == "epoch 1 of 3"
    assert not np.allclose(panel.positions[0], last)
    panel.toggle_play()  # from the first epoch to the last, then it stops by itself
    qtbot.waitUntil(lambda: not panel.timer.isActive(), timeout=5000)
    assert panel.slider.value() == 3 and panel.play_button.text() == "Play"
    out = tmp_path / "replay.gif"
    with qtbot.waitSignal(window.tasks.wrote, timeout=20_000):
        panel.export(str(out))
    with Image.open(out) as gif:
        assert gif.n_frames == 3 and gif.size == (480 + 70, 480)


def test_a_model_without_a_timeline_hides_the_panel(open_window):
    window = open_window()
    assert not window.timeline.dock.isVisible()


def test_a_run_in_the_window_records_its_timeline(small_root, qtbot):
    from explorer.gui.threads.workers import TrainWorker

    worker = TrainWorker(build_model(ModelConfig(kind="vae"), seed=0), TrainConfig(epochs=2, batch_size=64),
                         data_dir=small_root)
    maps = []  # what the window's map got: before training, then after each epoch
    worker.epoch.connect(lambda shot: maps.append(shot.codes))
    with qtbot.waitSignal(worker.completed, timeout=60_000) as done:
        worker.start()
    worker.wait()
    qtbot.waitUntil(lambda: len(maps) == 3, timeout=5000)
    run = done.args[0]
    assert run.timeline.epochs == 2 and len(run.timeline.index) == 256
    for epoch in (1, 2):  # the timeline replays the sample where the map showed it
        np.testing.assert_array_equal(run.timeline.after(epoch), maps[epoch][run.timeline.index])
    np.testing.assert_allclose(run.timeline.after(2), coding.embed(run.model, load_split("mnist", "test", small_root)
                                                                   .images[run.timeline.index]), atol=1e-3)
