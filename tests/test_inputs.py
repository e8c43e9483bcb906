"""Getting data in: texts and records from memory, Hugging Face datasets (a fake of the same
protocol), token files by their ``.bin`` name, bytes that are not UTF-8, tokenizers that do
not round-trip, inputs that name one file twice."""

from __future__ import annotations

import json
import os
import warnings

import fastentropy as fe
import numpy as np
import pytest
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
from tokenizers.models import WordPiece

TEXTS = ["the cat sat\n", "", "ça va, Ünïcode ✓", "a  b\tc"]


def documents(tf):
    """The documents of a token file as lists of ids (split at the separator)."""
    out, doc = [], []
    for t in tf.tokens().tolist():
        if t == tf.separator:
            out.append(doc)
            doc = []
        else:
            doc.append(t)
    return out


def utf8(texts):
    return [list(t.encode("utf-8")) for t in texts]


# --- texts from memory ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "make", [list, tuple, iter, lambda ts: (t for t in ts)], ids=["list", "tuple", "iter", "gen"]
)
def test_an_iterable_of_strings_is_one_document_each(tmp_path, make):
    tf = fe.tokenize(make(TEXTS), "bytes", tmp_path / "out")
    assert documents(tf) == utf8(TEXTS)
    assert tf.n_documents == 4
    assert tf.n_bytes == sum(len(t.encode("utf-8")) for t in TEXTS)
    assert tf.n_chars == sum(len(t) for t in TEXTS)
    (source,) = tf.sources
    assert source["path"] == "<4 texts from memory>" and source["size"] == tf.n_bytes


def test_records_with_a_field_and_a_mask_field(tmp_path):
    records = [{"q": {"text": "2+2?"}, "a": " 4"}, {"q": {"text": "hi"}, "a": " yo"}]
    tf = fe.tokenize(records, "bytes", tmp_path / "out", field="q.text", mask_field="a")
    assert documents(tf) == utf8(["2+2? 4", "hi yo"])
    mask = tf.mask().tolist()
    assert mask == [False] * 4 + [True] * 2 + [False] + [False] * 2 + [True] * 3 + [False]
    with pytest.raises(ValueError, match=r"<texts from memory>:2: no field 'q'"):
        fe.tokenize([{"q": {"text": "x"}}, {"x": 1}], "bytes", tmp_path / "bad", field="q.text")


def test_trained_bpe_reads_a_generator_twice(tmp_path):
    texts = ["the cat sat on the mat " * 20, "the dog sat on the log " * 20]
    tf = fe.tokenize((t for t in texts), ("train-bpe", 300), tmp_path / "out")
    tok = Tokenizer.from_file(str(tmp_path / "out.tokenizer.json"))
    assert [tok.decode(d) for d in documents(tf)] == texts


def test_a_list_of_paths_is_still_paths(tmp_path):
    (tmp_path / "a.txt").write_text("abc")
    tf = fe.tokenize([str(tmp_path / "a.txt")], "bytes", tmp_path / "out")
    assert tf.sources[0]["path"].endswith("a.txt") and documents(tf) == utf8(["abc"])
    # A missing file that looks like one is reported as missing, not tokenized as text.
    for name in ("nope.txt", str(tmp_path / "nope"), "data/*.jsonl"):
        with pytest.raises(FileNotFoundError):
            fe.tokenize([name], "bytes", tmp_path / "out2")


class FakeDataset:
    """What fastentropy uses of a ``datasets.Dataset``: rows as dicts and column names."""

    __module__ = "datasets.arrow_dataset"

    def __init__(self, rows):
        self.rows = rows
        self.column_names = list(rows[0])

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)


FakeDataset.__name__ = FakeDataset.__qualname__ = "Dataset"


def test_a_dataset_column(tmp_path):
    ds = FakeDataset([{"text": t, "id": i} for i, t in enumerate(TEXTS)])
    tf = fe.tokenize(ds, "bytes", tmp_path / "out")
    assert documents(tf) == utf8(TEXTS)
    assert tf.sources[0]["path"] == "<datasets.Dataset of 4 rows, column 'text'>"
    with pytest.raises(ValueError, match=r"no column 'body' \(columns: text, id\)"):
        fe.tokenize(ds, "bytes", tmp_path / "out", field="body")


def test_a_real_dataset(tmp_path):
    datasets = pytest.importorskip("datasets")  # in the test extras: runs in CI
    ds = datasets.Dataset.from_dict({"text": TEXTS})
    assert documents(fe.tokenize(ds, "bytes", tmp_path / "a")) == utf8(TEXTS)
    stream = ds.to_iterable_dataset()
    assert documents(fe.tokenize(stream, "bytes", tmp_path / "b")) == utf8(TEXTS)


def test_bad_items(tmp_path):
    with pytest.raises(TypeError, match="item 2 is int"):
        fe.tokenize(iter(["a", 5]), "bytes", tmp_path / "out")
    with pytest.raises(ValueError, match="doc='line' does not apply to texts from memory"):
        fe.tokenize(iter(["a"]), "bytes", tmp_path / "out", doc="line")


# --- token files -----------------------------------------------------------------------------


def test_open_tokens_of_a_bin_with_its_sidecar(tmp_path):
    (tmp_path / "a.txt").write_text("abcab")
    fe.tokenize(tmp_path / "a.txt", "bytes", tmp_path / "corpus")
    tf = fe.open_tokens(tmp_path / "corpus.bin")
    assert isinstance(tf, fe.TokenFile) and tf.separator == 256
    assert np.asarray(tf).tolist() == [97, 98, 99, 97, 98, 256] and len(tf) == 6
    # Without a sidecar, a raw file is what it was: an array, given its dtype.
    os.remove(tmp_path / "corpus.json")
    arr = fe.open_tokens(tmp_path / "corpus.bin", dtype="uint16")
    assert isinstance(arr, np.ndarray) and len(arr) == 6


# --- bytes that are not UTF-8 ------------------------------------------------------------------


def test_bytes_tokenizer_takes_bytes_that_are_not_utf8(tmp_path):
    data = "café ".encode() + b"na\xefve \xff\xfe\n" + "ok ✓".encode()
    (tmp_path / "latin.txt").write_bytes(data)
    with pytest.warns(UserWarning, match="3 bytes of the input are not UTF-8"):
        tf = fe.tokenize(tmp_path / "latin.txt", "bytes", tmp_path / "out")
    assert documents(tf) == [list(data)]
    assert tf.n_bytes == len(data) and tf.metadata["invalid_utf8_bytes"] == 3
    decodable = data.decode("utf-8", "ignore")
    assert tf.n_chars == len(decodable)
    # Another tokenizer needs text: still an error naming the offset.
    with pytest.raises(ValueError, match="invalid UTF-8 at byte offset 8"):
        fe.tokenize(tmp_path / "latin.txt", ("train-bpe", 300), tmp_path / "bpe")


def test_utf8_input_has_no_warning_and_no_count(tmp_path):
    (tmp_path / "a.txt").write_text("ça\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tf = fe.tokenize(tmp_path / "a.txt", "bytes", tmp_path / "out")
    assert tf.metadata.get("invalid_utf8_bytes", 0) == 0


# --- tokenizers that do not round-trip ---------------------------------------------------------


def wordpiece(path):
    vocab = {"[UNK]": 0, "hello": 1, "world": 2, ",": 3, "!": 4, "the": 5, "cat": 6}
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.save(str(path))
    return path


def test_a_tokenizer_that_does_not_round_trip_is_said(tmp_path):
    (tmp_path / "a.txt").write_text("Hello,  World!\nthe cat\n" * 50)
    spec = str(wordpiece(tmp_path / "wp.json"))
    with pytest.warns(UserWarning, match="does not round-trip"):
        tf = fe.tokenize(tmp_path / "a.txt", spec, tmp_path / "out")
    assert tf.metadata["round_trip"] is False
    floor = fe.estimate_floor(tf, methods=["plugin"])
    assert any("bits/byte is not comparable" in note for note in floor.notes)
    # Byte-level tokenizers do round-trip: no warning, no note.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tf = fe.tokenize(tmp_path / "a.txt", "bytes", tmp_path / "b")
    assert tf.metadata["round_trip"] is True
    assert not any("not comparable" in n for n in fe.estimate_floor(tf, methods=["plugin"]).notes)


# --- the same file named twice -----------------------------------------------------------------


def test_inputs_naming_one_file_twice_are_said(tmp_path):
    (tmp_path / "a.txt").write_text("abc")
    os.symlink(tmp_path / "a.txt", tmp_path / "link.txt")
    with pytest.warns(UserWarning, match=r"2 of 3 inputs name a file already read"):
        tf = fe.tokenize([tmp_path / "a.txt", tmp_path / "*.txt"], "bytes", tmp_path / "out")
    assert tf.n_documents == 1
    assert json.loads((tmp_path / "out.json").read_text())["duplicate_inputs"] == 2


def _misaligned(a: np.ndarray) -> np.ndarray:
    """The same values in a buffer one byte off alignment (as np.frombuffer at an odd offset,
    an odd memory-map header or an unpickled byte stream give them)."""
    raw = bytearray(1 + a.nbytes)
    raw[1:] = a.tobytes()
    out = np.frombuffer(memoryview(raw)[1:], dtype=a.dtype).reshape(a.shape)
    assert not out.flags.aligned
    return out


def test_misaligned_arrays_are_read_like_aligned_ones():
    # They were refused with "The given array is not contiguous or is misaligned."
    tokens = np.random.default_rng(1).integers(0, 50, 5_000).astype(np.uint32)
    odd = _misaligned(tokens)
    want = fe.ngram_profiles(tokens, [1, 2, 3])
    got = fe.ngram_profiles(odd, [1, 2, 3])
    assert {n: (p.ks.tolist(), p.mks.tolist()) for n, p in got.items()} == {
        n: (p.ks.tolist(), p.mks.tolist()) for n, p in want.items()
    }
    assert fe.count_ngrams(odd, 2).most_common(5)[1].tolist() == (
        fe.count_ngrams(tokens, 2).most_common(5)[1].tolist()
    )
    logits = np.random.default_rng(2).normal(size=(64, 50)).astype(np.float32)
    targets = tokens[:64].astype(np.int64)
    want = fe.CrossEntropy()
    want.update(logits, targets)
    for x, y in ((_misaligned(logits), targets), (logits, _misaligned(targets))):
        assert fe.cross_entropy(x, y) == fe.cross_entropy(logits, targets)
        acc = fe.CrossEntropy()
        acc.update(x, y)
        assert (acc.count, acc.sum) == (want.count, want.sum)
