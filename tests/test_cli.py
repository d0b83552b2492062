"""The ``embload`` command: subcommands, messages, exit codes (0 done, 1 bad input, 2 usage)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import embload
from conftest import Optional

from embload import cache
from embload.cli import main

KeyedVectors = Optional("gensim.models", "KeyedVectors")

WORDS = ["the", "cat", "Sat", "on", "mat", "zero"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(3)
    matrix = rng.standard_normal((len(WORDS), 5)).astype(np.float32)
    matrix[WORDS.index("zero")] = 0
    kv = KeyedVectors(5)
    kv.add_vectors(WORDS, matrix)
    text = str(folder / "v.vec")
    kv.save_word2vec_format(text)
    binary = str(folder / "v.bin")
    kv.save_word2vec_format(binary, binary=True)
    return {"vec": text, "bin": binary, "kv": kv, "folder": folder}


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- help and usage ----------------------------------------------------------------------
def test_help_reads_like_a_man_page(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for text in ("commands:", "info", "convert", "align", "demo", "examples:", "exit status:",
                 "1  bad input", "2  usage error", "--no-progress"):
        assert text in out


@pytest.mark.parametrize("command", ["info", "convert", "align"])
def test_subcommand_help(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert f"usage: embload {command}" in out and "examples:" in out


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["info"], ["convert", "a"], ["info", "x", "--rows", "-3"],
                                  ["align", "v.vec", "--out", "m.npy"], ["convert", "a", "b", "--to", "pickle"]])
def test_usage_errors_exit_2(capsys, argv):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "usage: embload" in err


def test_version(capsys):
    from embload import __version__

    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"embload {__version__}"


# --- info --------------------------------------------------------------------------------
def test_info_text(capsys, files):
    code, out, err = run(capsys, "info", files["vec"], "--no-progress")
    assert code == 0, err
    assert "format      word2vec" in out
    assert "vectors     6" in out and "dim         5" in out and "dtype       float32" in out
    assert "  the " in out
    assert "1 all-zero vector(s)" in out
    assert "duplicates  none" in out


def test_info_json_matches_gensim(capsys, files):
    code, out, _ = run(capsys, "info", files["bin"], "--json")
    assert code == 0
    report = json.loads(out)
    kv = files["kv"]
    assert report["format"] == "word2vec-binary"
    assert (report["count"], report["dim"], report["dtype"]) == (6, 5, "float32")
    assert [row["word"] for row in report["rows"]] == WORDS[:5]
    assert report["rows"][1]["values"] == [float(x) for x in kv["cat"]]
    values = kv.vectors.astype(np.float64)
    stats = report["statistics"]
    assert stats["min"] == values.min() and stats["max"] == values.max()
    assert stats["mean"] == pytest.approx(values.mean(), rel=1e-12)
    assert stats["std"] == pytest.approx(values.std(), rel=1e-9)
    norms = np.linalg.norm(values, axis=1)
    assert stats["norm_max"] == pytest.approx(norms.max(), rel=1e-12)
    assert stats["zero_rows"] == 1


def test_info_reports_duplicates_and_odd_words(capsys, tmp_path):
    path = tmp_path / "dup.txt"
    path.write_text("a 1 2\nb 3 4\na 5 6\nnew york 7 8\nc nan 1\n", encoding="utf-8")
    code, out, err = run(capsys, "info", str(path), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["count"] == 4
    assert "duplicate" in report["duplicates"].lower()
    problems = " | ".join(report["problems"])
    assert "1 vector(s) holding NaN or infinity" in problems
    assert "1 word(s) containing whitespace" in problems


def test_info_limit(capsys, files):
    code, out, _ = run(capsys, "info", files["vec"], "--limit", "2", "--rows", "1", "--json")
    report = json.loads(out)
    assert report["count"] == 2 and len(report["rows"]) == 1


def test_info_cache_and_verify(capsys, files, tmp_path):
    folder = str(tmp_path / "c.embload")
    assert run(capsys, "convert", files["vec"], folder)[0] == 0
    code, out, _ = run(capsys, "info", folder, "--verify")
    assert code == 0
    assert "format      embload (cache version 1)" in out
    assert "checksums   ok" in out
    assert f"source      {os.path.abspath(files['vec'])} (word2vec" in out
    with open(os.path.join(folder, "words.txt"), "r+b") as handle:
        handle.write(b"T")
    code, _, err = run(capsys, "info", folder, "--verify")
    assert code == 1
    assert err.strip() == (f"embload info: error: {folder}: words.txt does not match its checksum "
                           + err.split("does not match its checksum ")[1].strip())
    assert "Traceback" not in err


# --- bad input: exit 1, one line naming file and line, no traceback ------------------------
def test_missing_file(capsys, tmp_path):
    code, out, err = run(capsys, "info", str(tmp_path / "nope.vec"))
    assert code == 1 and out == ""
    assert err == f"embload info: error: {tmp_path / 'nope.vec'}: No such file or directory\n"


def test_bad_line_names_file_and_line(capsys, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("a 1 2\nb 1 oops\n")
    code, _, err = run(capsys, "convert", str(bad), str(tmp_path / "o.embload"))
    assert code == 1
    assert err.startswith(f"embload convert: error: {bad}, line 2")
    assert "Traceback" not in err and err.count("\n") == 1
    assert not os.path.exists(tmp_path / "o.embload")


def test_errors_option_for_words_not_utf8(capsys, tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"caf\xe9 1 2\nok 3 4\n")
    # strict (default): exit 1, the message names the file and line
    code, _, err = run(capsys, "info", str(bad))
    assert code == 1 and "latin1.txt, line 1" in err
    code, out, _ = run(capsys, "info", str(bad), "--errors", "replace", "--json")
    assert code == 0 and json.loads(out)["count"] == 2
    folder = str(tmp_path / "o.embload")
    assert run(capsys, "convert", str(bad), folder, "--errors", "replace")[0] == 0
    assert cache.open_cache(folder).words == ["caf\ufffd", "ok"]
    out_vec = str(tmp_path / "o.vec")
    assert run(capsys, "convert", str(bad), out_vec, "--errors", "ignore")[0] == 0
    assert KeyedVectors.load_word2vec_format(out_vec).index_to_key == ["caf", "ok"]


def test_damaged_cache(capsys, tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "meta.json").write_text('{"format": "embload-cache", "version": 1}')
    code, _, err = run(capsys, "info", str(tmp_path / "c"))
    assert code == 1 and str(tmp_path / "c") in err


# --- convert -----------------------------------------------------------------------------
def test_convert_with_options(capsys, files, tmp_path):
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("mat\nthe\nunknown\ncat\n")
    out_dir = str(tmp_path / "o.embload")
    code, out, err = run(capsys, "convert", files["bin"], out_dir, "--vocab", str(vocab), "--limit", "2",
                         "--dtype", "float16", "--no-progress")
    assert code == 0, err
    assert out.strip() == f"wrote 2 vectors x 5 (float16) to {out_dir}"
    v = cache.open_cache(out_dir)
    assert v.words == ["mat", "the"]
    assert np.array_equal(v.vectors, files["kv"].vectors[[4, 0]].astype(np.float16))


def test_convert_needs_format_when_the_name_does_not_tell(capsys, files, tmp_path):
    # a usage error (exit 2) in the command line's own words
    code, _, err = run(capsys, "convert", files["vec"], str(tmp_path / "out.dat"))
    assert code == 2 and "--to FORMAT (glove, word2vec, word2vec-binary, embload)" in err
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("name, fmt", [("x.glove.txt", "glove"), ("x.txt", "glove"), ("x.glove", "glove"),
                                       ("x.w2v", "word2vec"), ("x.w2v.txt", "word2vec"), ("x.vec.gz", "word2vec")])
def test_convert_recognises_the_names_people_use(capsys, files, tmp_path, name, fmt):
    code, out, _ = run(capsys, "convert", files["bin"], str(tmp_path / name))
    assert code == 0, out
    back = embload.load(tmp_path / name)
    assert back.format == fmt and back.words == WORDS
    assert np.array_equal(back.vectors, files["kv"].vectors)


def test_format_choices_are_listed_and_checked(capsys, files):
    code, out, _ = run(capsys, "info", "--help")
    assert code == 0 and "{auto,glove,word2vec,word2vec-binary,fasttext-bin}" in " ".join(out.split())
    code, _, err = run(capsys, "info", files["vec"], "--format", "pickle")
    assert code == 2 and "invalid choice: 'pickle'" in err


def test_info_on_a_plain_folder_and_on_an_empty_file(capsys, tmp_path):
    (tmp_path / "plain").mkdir()
    code, _, err = run(capsys, "info", str(tmp_path / "plain"))
    assert code == 1 and "a folder that is not an embload cache" in err and "interrupted" not in err
    (tmp_path / "empty.vec").write_bytes(b"")
    code, out, err = run(capsys, "info", str(tmp_path / "empty.vec"))
    assert code == 1 and "the file is empty" in err and "none found" not in out


def test_convert_text_formats(capsys, files, tmp_path):
    out = str(tmp_path / "o.txt")
    assert run(capsys, "convert", files["bin"], out, "--to", "glove")[0] == 0
    kv = KeyedVectors.load_word2vec_format(out, no_header=True)
    assert kv.index_to_key == WORDS and np.array_equal(kv.vectors, files["kv"].vectors)


# --- align -------------------------------------------------------------------------------
def test_align(capsys, files, tmp_path):
    word_index = tmp_path / "wi.json"
    word_index.write_text(json.dumps({"the": 1, "sat": 2, "dog": 3, "mat": 4, "bird": 5}))
    out = str(tmp_path / "m.npy")
    missing_out = str(tmp_path / "missing.txt")
    code, text, err = run(capsys, "align", files["vec"], "--word-index", str(word_index), "--out", out,
                          "--case", "fallback", "--missing-out", missing_out, "--show-missing", "1")
    assert code == 0, err
    matrix = np.load(out)
    kv = files["kv"]
    assert matrix.shape == (6, 5)
    assert np.array_equal(matrix[0], np.zeros(5))
    assert np.array_equal(matrix[1], kv["the"]) and np.array_equal(matrix[2], kv["Sat"])
    assert np.array_equal(matrix[4], kv["mat"])
    assert "coverage    60.00%" in text
    assert "missing     dog ... and 1 more" in text
    assert open(missing_out).read() == "dog\nbird\n"


def test_align_refuses_a_missing_output_folder_before_aligning(capsys, files, tmp_path):
    word_index = tmp_path / "wi.json"
    word_index.write_text(json.dumps({"the": 1}))
    out = tmp_path / "m.npy"
    code, text, err = run(capsys, "align", files["vec"], "--word-index", str(word_index), "--out", str(out),
                          "--missing-out", str(tmp_path / "gone" / "missing.txt"))
    assert code == 1
    assert f"{tmp_path / 'gone'}: the folder to write into does not exist" in err
    assert not out.exists()   # refused first, not after writing the matrix


def test_align_from_cache_equals_file(capsys, files, tmp_path):
    folder = str(tmp_path / "c.embload")
    run(capsys, "convert", files["vec"], folder)
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("cat\non\nnothing\n")
    for src, out in ((files["vec"], "a.npy"), (folder, "b.npy")):
        assert run(capsys, "align", src, "--word-index", str(vocab), "--out", str(tmp_path / out))[0] == 0
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


def test_align_out_must_be_npy(capsys, files, tmp_path):
    code, _, err = run(capsys, "align", files["vec"], "--word-index", files["vec"], "--out", str(tmp_path / "m.txt"))
    assert code == 1 and "ending in .npy" in err


# --- entry points ------------------------------------------------------------------------
def test_python_dash_m(files):
    done = subprocess.run([sys.executable, "-m", "embload", "info", files["vec"], "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["count"] == 6
    done = subprocess.run([sys.executable, "-m", "embload", "info", files["vec"] + ".missing"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "embload", "--bogus"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2


def test_demo_is_dispatched(monkeypatch):
    import embload.demo

    seen = []
    monkeypatch.setattr(embload.demo, "main", lambda argv=None: seen.append(argv) or 0)
    assert main(["demo", "--epochs", "3"]) == 0
    assert seen == [["--epochs", "3"]]


def test_conversion_scripts(files, tmp_path):
    scripts = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts")
    done = subprocess.run([sys.executable, os.path.join(scripts, "to_cache.py"), files["bin"],
                           str(tmp_path / "c.embload"), "--limit", "3"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert cache.open_cache(tmp_path / "c.embload").words == WORDS[:3]
    done = subprocess.run([sys.executable, os.path.join(scripts, "text_to_binary.py")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and "word2vec C binary" in done.stderr
