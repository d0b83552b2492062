"""The main job, `embload demo`, end to end on the bundled sample data."""
import io
import os

import numpy as np
import pytest

from embload import demo

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def test_read_labelled_counts_and_labels():
    texts, labels = demo.read_labelled(os.path.join(DATA, "polarity.tsv"))
    assert len(texts) == 200
    assert labels.sum() == 100
    assert texts[0] == "simplistic , silly and tedious ."
    assert labels[0] == 0


def test_read_labelled_names_file_and_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("pos\tgood\nno tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.tsv, line 2: expected 'label<TAB>text': 'no tab here'"):
        demo.read_labelled(str(path))


def test_read_labelled_refuses_non_utf8_and_empty_files(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes(b"pos\tgood\r\nneg\tna\xefve film\n")
    with pytest.raises(ValueError, match=r"latin1\.tsv, line 2: not UTF-8 .*'neg\\tna\\\\xefve film'"):
        demo.read_labelled(str(path))
    empty = tmp_path / "empty.tsv"
    empty.write_bytes(b"\n\n")
    with pytest.raises(ValueError, match=r"empty\.tsv: no labelled sentences"):
        demo.read_labelled(str(empty))
    crlf = tmp_path / "crlf.tsv"
    crlf.write_bytes(b"pos\tgood\r\nneg\tbad\r\n")
    texts, labels = demo.read_labelled(str(crlf))
    assert texts == ["good", "bad"] and labels.tolist() == [1.0, 0.0]


def test_run_demo_reports_every_mode():
    out = io.StringIO()
    results = demo.run_demo(DATA, folds=2, epochs=2, progress=False, out=out)
    assert set(results) == {name for name, _ in demo.MODES}
    for accuracy, spread, seconds in results.values():
        assert 0.0 <= accuracy <= 1.0 and spread >= 0.0 and seconds > 0.0
    text = out.getvalue()
    assert "1696 words" in text  # the Keras tokenizer's vocabulary of the 200 sentences
    assert "of the tokens" in text and "missing rows only" in text


def test_missing_rows_mode_keeps_pretrained_rows(monkeypatch):
    # Record the layers the demo builds; in "missing" mode the rows found in the
    # file must come out bit-identical, the missing ones must have moved.
    from embload import layer as layer_module

    built = []
    original = layer_module.Embedding.from_pretrained.__func__

    def spy(cls, aligned, trainable=False, **kwargs):
        made = original(cls, aligned, trainable=trainable, **kwargs)
        built.append((trainable, aligned, made, made.weights.copy()))
        return made

    monkeypatch.setattr(layer_module.Embedding, "from_pretrained", classmethod(spy))
    demo.run_demo(DATA, folds=2, epochs=1, progress=False, out=io.StringIO())
    checked = 0
    for trainable, aligned, made, before in built:
        if trainable != "missing":
            continue
        found = aligned.found
        assert np.array_equal(made.weights[found].view(np.uint32), aligned.matrix[found].view(np.uint32))
        assert not np.array_equal(made.weights[~found][1:], before[~found][1:])
        assert np.array_equal(made.weights[0], before[0])
        checked += 1
    assert checked == 2


def test_find_data_dir_explains(tmp_path):
    with pytest.raises(FileNotFoundError, match="polarity.tsv"):
        demo.find_data_dir(str(tmp_path))
