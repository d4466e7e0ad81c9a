import errno
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.utils import files
from explorer.utils.errors import ExplorerError

SUFFIXES = (".bin",)


def write_in_two_parts(f):
    f.write(b"new part one ")
    f.write(b"and part two")


def fail_half_way(f):
    f.write(b"half of the new")
    raise OSError(errno.ENOSPC, "No space left on device")


def refuse(err, message):
    def raise_it(*args, **kwargs):
        raise OSError(err, message)
    return raise_it


# Where a write can fail: in the caller's writer, flushing to disk, creating the temp file (a read-only
# folder: EACCES for a user, EROFS for a read-only mount), or at the final rename.
FAILURES = {
    "writer raises part-way": (None, None, "No space left on device"),
    "fsync fails after the bytes": ("os.fsync", refuse(errno.EIO, "Input/output error"), "Input/output error"),
    "read-only folder (EACCES)": ("os.open", refuse(errno.EACCES, "Permission denied"), "Permission denied"),
    "read-only file system": ("os.open", refuse(errno.EROFS, "Read-only file system"), "Read-only file system"),
    "rename refused": ("os.replace", refuse(errno.EACCES, "Permission denied"), "Permission denied"),
}


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("existing", [True, False], ids=["over an old file", "new file"])
def test_a_failed_write_leaves_the_target_as_it_was_and_no_temp(tmp_path, monkeypatch, failure, existing):
    target = tmp_path / "out.bin"
    if existing:
        target.write_bytes(b"old contents")
    patched, replacement, cause = FAILURES[failure]
    writer = fail_half_way if patched is None else write_in_two_parts
    if patched:
        monkeypatch.setattr(patched, replacement)
    with pytest.raises(ExplorerError) as e:
        files.atomic_write(target, writer, SUFFIXES)
    monkeypatch.undo()
    assert str(target) in str(e.value) and cause in str(e.value)
    if existing:
        assert target.read_bytes() == b"old contents"
    assert sorted(os.listdir(tmp_path)) == (["out.bin"] if existing else [])


def test_a_successful_write_replaces_the_file_whole(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old contents that are longer than the new")
    assert files.atomic_write(target, write_in_two_parts, SUFFIXES) == target
    assert target.read_bytes() == b"new part one and part two" and os.listdir(tmp_path) == ["out.bin"]


def test_the_rename_is_made_durable_by_syncing_the_folder_after_it(tmp_path, monkeypatch):
    """The file's bytes are synced before the rename and the folder after it, so a power cut just after
    the save keeps the new file, not the old one."""
    synced, real_fsync, real_replace = [], os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.readlink(f"/proc/self/fd/{fd}")) or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: synced.append("rename") or real_replace(a, b))
    files.atomic_write(tmp_path / "model.safetensors", lambda f: f.write(b"new"), (".safetensors",))
    assert synced[1:] == ["rename", str(tmp_path)] and synced[0].endswith(".tmp")


def test_an_interrupt_mid_write_still_removes_the_temp(tmp_path):
    def interrupted(f):
        f.write(b"some")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(tmp_path / "out.bin", interrupted, SUFFIXES)
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions (simulated above)")
def test_a_really_read_only_folder(tmp_path):
    (tmp_path / "out.bin").write_bytes(b"old contents")
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ExplorerError, match="Permission denied") as e:
            files.atomic_write(tmp_path / "out.bin", write_in_two_parts, SUFFIXES)
    finally:
        tmp_path.chmod(0o700)
    assert str(tmp_path / "out.bin") in str(e.value)
    assert (tmp_path / "out.bin").read_bytes() == b"old contents" and os.listdir(tmp_path) == ["out.bin"]


@pytest.mark.parametrize("name, problem", [
    ("missing/out.bin", "folder .*missing does not exist"),
    ("a-file/out.bin", "folder .*a-file is not a folder"),
    ("a-folder.bin", "it is a folder"),
    ("out.txt", "must end in .bin"),
    (".bin", "must end in .bin"),  # a hidden file with no suffix, not an empty name with one
    ("x" * 300 + ".bin", "File name too long"),
    ("nul\0byte.bin", "null byte"),
])
def test_impossible_targets_are_refused_with_the_path_and_why(tmp_path, name, problem):
    (tmp_path / "a-file").write_bytes(b"")
    (tmp_path / "a-folder.bin").mkdir()
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(ExplorerError, match=problem) as e:
        files.atomic_write(tmp_path / name, write_in_two_parts, SUFFIXES)
    assert str(tmp_path) in str(e.value)
    assert sorted(os.listdir(tmp_path)) == before


def test_the_longest_legal_name_can_be_written(tmp_path):
    """The temp file's name must fit too, though it adds a prefix and a suffix to the target's."""
    target = tmp_path / ("é" * 125 + "x.bin")  # 255 bytes in UTF-8, the usual limit
    files.atomic_write(target, write_in_two_parts, SUFFIXES)
    assert target.read_bytes() == b"new part one and part two" and os.listdir(tmp_path) == [target.name]


@pytest.mark.parametrize("reach", ["same path", "another spelling", "symlink", "hard link", "symlinked folder"])
def test_an_input_is_never_a_target_however_it_is_reached(tmp_path, reach, monkeypatch):
    source = tmp_path / "in.bin"
    source.write_bytes(b"the input")
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    target = {"same path": source, "another spelling": "sub/../in.bin", "symlink": tmp_path / "link.bin",
              "hard link": tmp_path / "hard.bin", "symlinked folder": tmp_path / "alias" / "in.bin"}[reach]
    if reach == "symlink":
        os.symlink(source, target)
    elif reach == "hard link":
        os.link(source, target)
    elif reach == "symlinked folder":
        os.symlink(tmp_path, tmp_path / "alias")
    with pytest.raises(ExplorerError, match=f"cannot write .*: it is {source}, an input of this command"):
        files.check_target(target, SUFFIXES, inputs=[source])
    assert source.read_bytes() == b"the input"


def test_other_files_and_missing_inputs_do_not_block_a_target(tmp_path):
    (tmp_path / "in.bin").write_bytes(b"x")
    assert files.check_target(tmp_path / "out.bin", SUFFIXES, inputs=[tmp_path / "in.bin", tmp_path / "gone", None])


def test_a_claim_is_held_for_its_block_and_leaves_nothing(tmp_path):
    target = tmp_path / "out.bin"
    with files.claim(target):
        assert os.listdir(tmp_path) == [".out.bin.lock"]
        files.atomic_write(target, write_in_two_parts, SUFFIXES)  # this process's own write inside its claim
    assert os.listdir(tmp_path) == ["out.bin"]


def test_signals_in_a_deferred_block_arrive_after_it(tmp_path):
    import signal

    arrived = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: arrived.append("after"))
    try:
        with files.signals_deferred():
            signal.raise_signal(signal.SIGTERM)
            arrived.append("during")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert arrived == ["during", "after"]


@settings(max_examples=40, deadline=None)
@given(depth=st.integers(0, 4), via_link=st.booleans(), sibling=st.booleans())
def test_no_output_lands_inside_an_input_folder_however_deep_or_reached(tmp_path_factory, depth, via_link, sibling):
    root = tmp_path_factory.mktemp("inputs")
    folder = root / "faces"
    inner = folder.joinpath(*(f"d{k}" for k in range(depth)))
    inner.mkdir(parents=True)
    if sibling:  # a folder beside it whose name starts the same is not inside it
        (root / "faces2").mkdir()
        assert files.check_target(root / "faces2" / "x.bin", SUFFIXES, inputs=[folder])
        return
    if via_link:
        os.symlink(inner, root / "alias")
        target = root / "alias" / "x.bin"
    else:
        target = inner / "x.bin"
    with pytest.raises(ExplorerError, match=f"it is inside {folder}, a folder this command reads"):
        files.check_target(target, SUFFIXES, inputs=[folder])
    assert not target.exists()


@pytest.mark.parametrize("kind", ["device", "fifo", "folder", "too large"])
def test_a_small_file_is_read_bounded_or_refused_in_one_line(tmp_path, kind):
    path = {"device": Path("/dev/zero"), "fifo": tmp_path / "pipe", "folder": tmp_path,
            "too large": tmp_path / "big.json"}[kind]
    if kind == "fifo":
        os.mkfifo(path)  # nobody writes: an open without O_NONBLOCK would wait forever
    if kind == "too large":
        path.write_bytes(b" " * 101)
    says = "larger than any path file (at most 100 bytes are read)" if kind == "too large" else "not a plain file"
    with pytest.raises(ExplorerError, match=re.escape(says)):
        files.read_limited(path, 100, "path file")
    (tmp_path / "ok.json").write_bytes(b"x" * 100)
    assert files.read_limited(tmp_path / "ok.json", 100, "path file") == b"x" * 100
