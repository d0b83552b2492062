"""The main job, `embload demo`, end to end on the bundled sample data.

(Installed from a wheel and run from another folder: tests/test_install.py.)"""
import io
import os
import re

import numpy as np
import pytest

from embload import demo

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")


def test_read_labelled_counts_and_labels():
    texts, labels = demo.read_labelled(os.path.join(DATA, "polarity.tsv"))
    assert len(texts) == 200
    assert labels.sum() == 100
    assert texts[0] == "the biggest problem with roger avary's uproar against the mpaa is that , " \
                       "even in all its director's cut glory , he's made a film that's barely shocking , " \
                       "barely interesting and most of all , barely anything ."
    assert labels[0] == 0


def test_polarity_is_shuffled_so_any_split_sees_both_classes():
    # gensim's file lists the 100 negative sentences first: a Keras validation_split=0.2
    # (the last 40 rows) validated on one class. Every fifth of the file holds both.
    _, labels = demo.read_labelled(os.path.join(DATA, "polarity.tsv"))
    for part in np.split(labels, 5):
        assert 0.3 <= part.mean() <= 0.7
    assert np.abs(np.diff(labels)).sum() > 60  # not a few long runs of one label


def test_data_readme_counts_match_the_files():
    text = open(os.path.join(DATA, "README.md"), encoding="utf-8").read()
    with open(os.path.join(DATA, "sample.vec"), "rb") as handle:
        count, dim = map(int, handle.readline().split())
    with open(os.path.join(DATA, "sample.glove.txt"), "rb") as handle:
        assert sum(1 for _ in handle) == count
    assert f"{count:,} words x {dim} dims" in text
    texts, labels = demo.read_labelled(os.path.join(DATA, "polarity.tsv"))
    positive = int(labels.sum())
    assert f"{len(texts)} movie-review sentences" in text
    assert f"{positive} `pos` and {len(texts) - positive} `neg`" in text


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
    with pytest.raises(FileNotFoundError, match="holds no polarity.tsv; --data takes a folder"):
        demo.find_data_dir(str(tmp_path))


def test_find_data_dir_ignores_the_current_folder(tmp_path, monkeypatch):
    # a data/polarity.tsv of someone else's in the current folder is not the sample data
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "polarity.tsv").write_text("pos\tnot ours\n")
    monkeypatch.chdir(tmp_path)
    assert os.path.samefile(demo.find_data_dir(), DATA)


def test_missing_sample_data_is_one_line_and_exit_1(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(demo, "_bundled_data_dirs", lambda: [str(tmp_path / "data")])
    assert demo.main(["--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("embload demo: error: the sample data is missing (no polarity.tsv in ")
    assert "--data DIR" in err


def test_bad_data_folder_is_one_line_and_exit_1(tmp_path, capsys):
    (tmp_path / "polarity.tsv").write_text("pos\tgood film\nneg\tbad film\n")
    # polarity.tsv is there, the vectors file is not
    assert demo.main(["--data", str(tmp_path), "--folds", "2", "--epochs", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sample.vec" in err and "No such file" in err


def test_cli_demo_runs_from_another_folder(tmp_path, monkeypatch, capsys):
    # from a folder without data/: the package (here the checkout) finds its sample data
    from embload.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--folds", "2", "--epochs", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "1. data: 200 labelled sentences from " in out and "(100 positive)" in out


def test_demo_help_documents_options_and_defaults(capsys):
    assert demo.main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for option, default in (("--epochs", 30), ("--folds", 5), ("--seed", 0)):
        assert re.search(rf"{option} \S+ (?:(?! --[a-z]).)*?\(default: {default}\)", text), option
    assert demo.main(["--folds", "1"]) == 2
    assert demo.main(["--epochs", "many"]) == 2



def test_readme_shows_what_the_demo_prints(monkeypatch):
    # the README's first block, run for real from the source folder (times aside)
    root = os.path.dirname(DATA)
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    shown = re.search(r"```\n(1\. data: .*?)```", readme, re.S).group(1)
    monkeypatch.chdir(root)
    out = io.StringIO()
    demo.run_demo(demo.find_data_dir(), progress=False, out=out)

    def untimed(text):
        return re.sub(r"in [\d.]+ ms|time [\d.]+ s", "(time)", text).splitlines()

    assert untimed(out.getvalue()) == untimed(shown)
