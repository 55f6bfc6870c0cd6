"""alad._atomic.replacing: a file is written whole or left as it was."""

import pytest

from alad._atomic import replacing


def test_a_finished_write_replaces_the_file(tmp_path):
    path = tmp_path / "sub" / "out.csv"
    with replacing(path, newline="") as f:
        f.write("a,b\r\n")
    assert path.read_bytes() == b"a,b\r\n"  # newline="" kept the CRLF as written
    assert list(path.parent.iterdir()) == [path]


def test_an_interrupted_write_leaves_the_old_file_and_no_litter(tmp_path):
    path = tmp_path / "out.bin"
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), replacing(path, "wb") as f:
        f.write(b"half")
        raise KeyboardInterrupt
    assert path.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [path]


def test_concurrent_writers_do_not_share_a_temporary_file(tmp_path):
    path = tmp_path / "out.txt"
    with replacing(path) as first, replacing(path) as second:
        assert first.name != second.name
        first.write("one")
        second.write("two")
    assert path.read_text() in ("one", "two")
    assert list(tmp_path.iterdir()) == [path]
