"""The window with missing or broken data: a message that names the file and what to do, no
traceback, and the model still explorable through its decoded background."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture
def messages_of():
    def collect(window):
        seen = []
        window.feedback.message_shown.connect(lambda title, text: seen.append((title, text)))
        return seen
    return collect


def wait_opened(qtbot, window, seen):
    qtbot.waitUntil(lambda: window.state.session is not None and seen and window.map.background.image is not None,
                    timeout=20_000)


def test_missing_data_without_downloads_names_the_files_and_the_fix(open_window, qtbot, tmp_path, messages_of):
    window = open_window(data_dir=tmp_path, wait=False)
    seen = messages_of(window)
    wait_opened(qtbot, window, seen)
    title, text = seen[0]
    assert title == "Data not available"
    assert "t10k-images-idx3-ubyte" in text and "--data-dir" in text and "EXPLORER_NO_DOWNLOAD" in text
    assert "Traceback" not in text
    assert len(window.map.cloud) == 0 and window.actions.manifold.isChecked()
    assert window.map.background.image.shape == (20 * 28, 20 * 28)
    assert "No images could be read" in window.map_panel.note.text()


def test_a_corrupt_idx_file_is_named_with_what_to_do(open_window, qtbot, tmp_path, small_root, messages_of):
    root = tmp_path / "root"
    shutil.copytree(small_root, root)
    broken = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    broken.write_bytes(broken.read_bytes()[:1000])  # truncated
    window = open_window(data_dir=root, wait=False)
    seen = messages_of(window)
    wait_opened(qtbot, window, seen)
    text = seen[0][1]
    assert str(broken) in text and "truncated or corrupt, replace it" in text and "Traceback" not in text
    assert len(window.map.cloud) == 0


def test_offline_without_a_data_dir_says_what_to_do_in_one_sentence_and_leaves_no_folder(
        open_window, qtbot, tmp_path, messages_of, monkeypatch):
    import urllib.error
    import urllib.request

    def offline(url, timeout=None):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.delenv("EXPLORER_DATA_DIR", raising=False)
    monkeypatch.delenv("EXPLORER_NO_DOWNLOAD", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # `bash scripts/run` on a fresh machine
    window = open_window(data_dir=None, wait=False)
    seen = messages_of(window)
    wait_opened(qtbot, window, seen)
    title, text = seen[0]
    reason = text.split("\n\n")[-1]
    assert title == "Data not available" and "http" not in text  # no list of the mirrors' URLs
    assert all(fix in reason for fix in ("--data-dir DIR", "EXPLORER_DATA_DIR", "`explorer download`"))
    assert not (tmp_path / "cache").exists()  # no empty ~/.cache/latent-explorer left behind
