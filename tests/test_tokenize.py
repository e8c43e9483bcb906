"""fe.tokenize and fe.TokenFile: documents, byte and character counts, round trips through
the bytes tokenizer and BPE, compressed and structured inputs, masks, every bad input, and
the atomic write of the outputs."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import math
import os
import tempfile
import warnings
from itertools import pairwise

import fastentropy as fe
import fastentropy._text.tokenize
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from fastentropy._text.sources import Corpus
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

TEXTS = [
    "plain ASCII text\nwith two lines\n",
    "",
    "Grüße, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 beyond the BMP 😀🚀, 中文\n\nand a blank line",
    "x" * 5000 + " long line\n",
]
EOT = "<|endoftext|>"


def write(path, data: str | bytes) -> str:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    opener = {".gz": gzip.compress, ".zst": zstandard.ZstdCompressor().compress}
    raw = opener.get(os.path.splitext(str(path))[1], lambda b: b)(raw)
    with open(path, "wb") as f:
        f.write(raw)
    return str(path)


def write_jsonl(path, records, extra_lines=()) -> str:
    lines = [json.dumps(r, ensure_ascii=False) for r in records] + list(extra_lines)
    return write(path, "\n".join(lines) + "\n")


def documents(tf: fe.TokenFile) -> list[list[int]]:
    """The token file split at its separators (each document ends with one)."""
    ids = tf.tokens().tolist()
    out, cur = [], []
    for i in ids:
        if i == tf.separator:
            out.append(cur)
            cur = []
        else:
            cur.append(i)
    assert cur == [], "the file does not end with a separator"
    return out


def byte_docs(tf: fe.TokenFile) -> list[str]:
    return [bytes(d).decode("utf-8") for d in documents(tf)]


def line_docs(text: str) -> list[str]:
    """The documents of ``doc="line"``: lines without their LF or CRLF; a final line break
    ends the last line and starts none."""
    *lines, tail = text.split("\n")
    return [s.removesuffix("\r") for s in lines] + ([tail] if tail else [])


def check_counts(tf: fe.TokenFile, docs: list[str]) -> None:
    assert tf.n_documents == len(docs)
    assert tf.n_bytes == sum(len(d.encode("utf-8")) for d in docs)
    assert tf.n_chars == sum(len(d) for d in docs)


@pytest.fixture(scope="module")
def bpe(tmp_path_factory) -> Tokenizer:
    """A byte-level BPE trained here on TEXTS (no network), with an end-of-text token."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[EOT],
        show_progress=False,
    )
    tok.train_from_iterator(TEXTS * 3, trainer=trainer)
    return tok


# --- the bytes tokenizer ----------------------------------------------------------------------


def test_bytes_files_round_trip_with_counts_and_sources(tmp_path):
    paths = [write(tmp_path / f"{i}.txt", t) for i, t in enumerate(TEXTS)]
    tf = fe.tokenize(paths, "bytes", tmp_path / "out")
    assert byte_docs(tf) == TEXTS  # one document per file, the empty file included
    check_counts(tf, TEXTS)
    assert (tf.dtype, tf.vocab_size, tf.separator) == ("uint16", 256, 256)
    assert tf.n_tokens == tf.n_bytes + len(TEXTS) == len(tf.tokens())
    assert tf.bytes_per_token == 1.0
    assert tf.chars_per_token == tf.n_chars / tf.n_bytes
    assert tf.tokenizer["name"] == "bytes" and tf.tokenizer["hash"].startswith("sha256:")
    assert tf.sources == [
        {
            "path": os.path.abspath(p),
            "size": os.path.getsize(p),
            "sha256": hashlib.sha256(open(p, "rb").read()).hexdigest(),
        }
        for p in paths
    ]
    assert tf.version == fe.__version__ and tf.mask() is None and tf.mask_path is None
    names = [os.path.basename(p) for p in paths]
    assert sorted(os.listdir(tmp_path)) == sorted([*names, "out.bin", "out.json"])


def test_lines_are_documents(tmp_path):
    text = "first\r\nsecond\n\n😀 fourth\nlast without newline"
    tf = fe.tokenize(write(tmp_path / "a.txt", text), "bytes", tmp_path / "out", doc="line")
    docs = ["first", "second", "", "😀 fourth", "last without newline"]
    assert byte_docs(tf) == docs
    check_counts(tf, docs)  # line breaks (and the CR before one) are not counted


@pytest.mark.parametrize("batch_bytes", [1, 7, 64, 1000, 1 << 20])
@pytest.mark.parametrize("doc", ["file", "line"])
def test_batch_size_does_not_change_bytes(tmp_path, batch_bytes, doc):
    text = "".join(TEXTS) + "y" * 3000 + "\r\n" + "é" * 700
    path = write(tmp_path / "a.txt", text)
    tf = fe.tokenize(path, "bytes", tmp_path / "out", doc=doc, batch_bytes=batch_bytes)
    expect = [text] if doc == "file" else line_docs(text)
    assert byte_docs(tf) == expect
    check_counts(tf, expect)


@settings(max_examples=40, deadline=None)
@given(
    text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
    batch_bytes=st.integers(1, 200),
    doc=st.sampled_from(["file", "line"]),
)
def test_any_text_round_trips(text, batch_bytes, doc):
    with tempfile.TemporaryDirectory() as d:
        path = write(os.path.join(d, "a.txt"), text)
        tf = fe.tokenize(path, "bytes", os.path.join(d, "o"), doc=doc, batch_bytes=batch_bytes)
        expect = [text] if doc == "file" else line_docs(text)
        assert byte_docs(tf) == expect
        check_counts(tf, expect)


def test_no_separator(tmp_path):
    paths = [write(tmp_path / f"{i}.txt", t) for i, t in enumerate(TEXTS)]
    tf = fe.tokenize(paths, "bytes", tmp_path / "out", separator=False)
    assert tf.separator is None and tf.n_documents == len(TEXTS)
    assert bytes(tf.tokens().tolist()).decode() == "".join(TEXTS)
    assert tf.n_text_tokens == tf.n_tokens == tf.n_bytes


def test_compressed_inputs_and_globs(tmp_path):
    text = TEXTS[2] + TEXTS[3]
    write(tmp_path / "a.txt.gz", text)
    write(tmp_path / "b.txt.zst", text)
    # Two zstd frames, as multi-threaded zstd writes them: both are read.
    frames = b"".join(zstandard.ZstdCompressor().compress(p.encode()) for p in (text, text))
    (tmp_path / "c.txt.zst").write_bytes(frames)
    tf = fe.tokenize(tmp_path / "*.txt.*", "bytes", tmp_path / "out")
    assert byte_docs(tf) == [text, text, text + text]
    assert [os.path.basename(s["path"]) for s in tf.sources] == [
        "a.txt.gz",
        "b.txt.zst",
        "c.txt.zst",
    ]
    assert (
        tf.sources[0]["sha256"] == hashlib.sha256((tmp_path / "a.txt.gz").read_bytes()).hexdigest()
    )


def test_a_file_named_twice_is_read_once(tmp_path):
    path = write(tmp_path / "a.txt", "abc")
    tf = fe.tokenize([path, str(tmp_path / "*.txt")], "bytes", tmp_path / "out")
    assert byte_docs(tf) == ["abc"]


def test_utf8_errors_replace(tmp_path):
    path = write(tmp_path / "a.txt", b"ok \xff\xfe end")
    tf = fe.tokenize(path, "bytes", tmp_path / "out", errors="replace")
    assert byte_docs(tf) == ["ok \ufffd\ufffd end"]
    check_counts(tf, ["ok \ufffd\ufffd end"])  # the replacement is what was tokenized


def test_long_lines_are_cut_between_characters(tmp_path):
    # U+10000 and a stray continuation byte: a block of 7 bytes ends between the two.
    path = write(tmp_path / "a.txt", b"ab\xf0\x90\x80\x80\x80cd")
    for batch_bytes in (1, 7, 1 << 20):
        out = tmp_path / "out"
        tf = fe.tokenize(path, "bytes", out, errors="replace", batch_bytes=batch_bytes)
        assert byte_docs(tf) == ["ab\U00010000\ufffdcd"]
        # The bytes tokenizer keeps the stray byte; text for another names its offset.
        with pytest.warns(UserWarning, match="1 bytes of the input are not UTF-8"):
            tf = fe.tokenize(path, "bytes", out, batch_bytes=batch_bytes)
        assert tf.tokens().tolist() == list(b"ab\xf0\x90\x80\x80\x80cd") + [256]
        assert tf.n_chars == 5
        with pytest.raises(ValueError, match=r"byte offset 6 \(bytes 80\)"):
            fe.tokenize(path, ("train-bpe", 300), out, batch_bytes=batch_bytes)


# Plain text for the bytes tokenizer is turned into ids with numpy, without the strings the
# other tokenizers need; both ways must write the same files and raise the same errors.

TRICKY = [
    "a",
    "xyz ",
    "\n",
    "\r",
    "\r\n",
    "é",
    "€",
    "😀",
    "𐀀",
    b"\xff",  # never UTF-8
    b"\x80",  # a continuation byte alone
    b"\xe2\x82",  # the start of a 3-byte character, cut short
    b"\xf0\x9f",
]


def outputs(paths, out, strings: bool, **options) -> tuple[bytes, bytes] | str:
    """The ``.bin`` and ``.json`` that fe.tokenize writes with "bytes" (or its ValueError);
    ``strings``: through the strings that every other tokenizer takes."""
    with pytest.MonkeyPatch.context() as mp:
        if strings:
            blocks = Corpus.blocks
            mp.setattr(Corpus, "blocks", lambda self, byte_ids: blocks(self))
        try:
            tf = fe.tokenize(paths, "bytes", out, **options)
        except ValueError as e:
            return str(e)
    with open(tf.path, "rb") as ids, open(tf.sidecar, "rb") as meta:
        return ids.read(), meta.read()


def same_both_ways(paths, folder, **options) -> bytes | str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bytes that are not UTF-8, said once per call
        ours = outputs(paths, os.path.join(folder, "ids", "out"), False, **options)
        theirs = outputs(paths, os.path.join(folder, "strings", "out"), True, **options)
    if isinstance(theirs, str) and options.get("errors", "strict") == "strict":
        # Bytes that are not UTF-8: the ids path (what plain text takes) keeps them as they
        # are; strings cannot hold them.
        assert "invalid UTF-8 at " in theirs and isinstance(ours, tuple)
        return ours[0]
    assert ours == theirs
    return ours[0] if isinstance(ours, tuple) else ours


@pytest.mark.parametrize("errors", ["strict", "replace"])
@pytest.mark.parametrize("doc", ["line", "file"])
def test_byte_ids_without_strings_match_the_strings(tmp_path, errors, doc):
    text = "first\r\n\r\n\nsecond 😀𝔘\n" + "é" * 40 + "\r\nlone\rcr\n" + "x" * 70 + "😀\r\n"
    invalid = b"a\xe2\x82\nb\xff\r\n" + text.encode() + b"\x80\xf0\x9f\x98"
    for suffix in (".txt", ".txt.gz"):
        for data in [text + "no final line break 😀", text + "\r", "", "\r\n", invalid]:
            path = write(tmp_path / f"a{suffix}", data)
            # Blocks of 1 and 3 bytes split CRLFs and characters beyond the BMP.
            for batch_bytes in [1, 3, 1 << 20]:
                folder = tmp_path / f"{batch_bytes}"
                result = same_both_ways(
                    [path], folder, doc=doc, errors=errors, batch_bytes=batch_bytes
                )
                if data is invalid and errors == "strict":
                    assert np.frombuffer(result, np.uint16)[:3].tolist() == [97, 0xE2, 0x82]


def test_byte_ids_between_records_and_without_separators(tmp_path):
    paths = [
        write(tmp_path / "a.txt", "one\r\ntwo\n"),
        write_jsonl(tmp_path / "b.jsonl", [{"text": "record"}]),
        write(tmp_path / "c.txt.gz", "three\n\nfour"),
        write_jsonl(tmp_path / "d.jsonl", [{"text": "last"}]),
    ]
    for separator in (True, False):
        ids = same_both_ways(paths, tmp_path / f"{separator}", doc="line", separator=separator)
        tokens = np.frombuffer(ids, np.uint16)
        expect = ["one", "two", "record", "three", "", "four", "last"]
        assert bytes(tokens[tokens < 256].tolist()).decode() == "".join(expect)
        assert np.count_nonzero(tokens == 256) == (len(expect) if separator else 0)


@settings(max_examples=40, deadline=None)
@given(
    parts=st.lists(st.sampled_from(TRICKY), max_size=40),
    batch_bytes=st.integers(1, 40),
    doc=st.sampled_from(["file", "line"]),
    errors=st.sampled_from(["strict", "replace"]),
)
def test_byte_ids_match_the_strings_on_any_bytes(parts, batch_bytes, doc, errors):
    data = b"".join(p.encode() if isinstance(p, str) else p for p in parts)
    with tempfile.TemporaryDirectory() as d:
        path = write(os.path.join(d, "a.txt"), data)
        ids = same_both_ways([path], d, doc=doc, errors=errors, batch_bytes=batch_bytes)
        # Where blocks end changes nothing, not even for invalid UTF-8.
        assert ids == same_both_ways([path], os.path.join(d, "whole"), doc=doc, errors=errors)


# --- JSON Lines and Parquet --------------------------------------------------------------------


RECORDS = [
    {"text": "first record", "meta": {"body": "nested 😀"}, "turns": [{"t": "a"}, {"t": "b"}]},
    {"text": "", "meta": {"body": ""}, "turns": [{"t": "c"}, {"t": "d"}]},
    {"text": TEXTS[2], "meta": {"body": "x" * 3000}, "turns": [{"t": "e"}, {"t": "ƒ"}]},
]


@pytest.mark.parametrize(
    "field, values",
    [
        ("text", [r["text"] for r in RECORDS]),
        ("meta.body", [r["meta"]["body"] for r in RECORDS]),
        ("turns.1.t", [r["turns"][1]["t"] for r in RECORDS]),
    ],
)
@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".ndjson.zst"])
def test_jsonl_records(tmp_path, field, values, suffix):
    path = write_jsonl(tmp_path / f"a{suffix}", RECORDS, extra_lines=["", "  "])
    tf = fe.tokenize(path, "bytes", tmp_path / "out", field=field, batch_bytes=100)
    assert byte_docs(tf) == values  # blank lines are not records
    check_counts(tf, values)
    same = fe.tokenize(path, "bytes", tmp_path / "line", field=field, doc="line")
    assert same.tokens().tolist() == tf.tokens().tolist()


@pytest.mark.parametrize("suffix", [".parquet", ".parquet.zst"])
def test_parquet_columns_and_nested_fields(tmp_path, suffix):
    table = pa.table(
        {"text": [r["text"] for r in RECORDS], "meta": [r["meta"] for r in RECORDS], "n": [1, 2, 3]}
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=2)
    path = write(tmp_path / f"a{suffix}", sink.getvalue())
    for field in ("text", "meta.body"):
        tf = fe.tokenize(path, "bytes", tmp_path / "out", field=field, batch_bytes=64)
        values = [r["text"] if field == "text" else r["meta"]["body"] for r in RECORDS]
        assert byte_docs(tf) == values
        check_counts(tf, values)
    assert tf.sources[0]["sha256"] == hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_skip_bad_lines_counts_them(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", RECORDS[:1], extra_lines=["{oops", "not json"])
    tf = fe.tokenize(path, "bytes", tmp_path / "out", skip_bad_lines=True)
    assert byte_docs(tf) == ["first record"]
    assert tf.skipped_lines == 2 and tf.metadata["skipped_lines"] == 2


@pytest.mark.parametrize("tokenizer", ["bytes", "bpe"])
def test_mask_marks_the_mask_field(tmp_path, tokenizer, bpe):
    records = [
        {"prompt": "Q: 2+2?", "answer": {"text": " A: 4 😀"}},
        {"prompt": "", "answer": {"text": ""}},
        {"prompt": "Why? " * 40, "answer": {"text": "Because. " * 30}},
    ]
    path = write_jsonl(tmp_path / "chat.jsonl", records)
    tf = fe.tokenize(
        path,
        "bytes" if tokenizer == "bytes" else bpe,
        tmp_path / "out",
        field="prompt",
        mask_field="answer.text",
        batch_bytes=128,
    )
    tokens, mask = tf.tokens(), tf.mask()
    assert mask is not None and mask.dtype == np.bool_ and len(mask) == len(tokens)
    assert tf.mask_path == str(tmp_path / "out.mask")
    assert not mask[tokens == tf.separator].any()

    def decode(ids):
        return bytes(ids).decode() if tokenizer == "bytes" else bpe.decode(ids)

    ends = np.flatnonzero(tokens == tf.separator)
    starts = np.concatenate([[0], ends[:-1] + 1])
    for r, a, b in zip(records, starts, ends, strict=True):
        ids, m = tokens[a:b].tolist(), mask[a:b]
        assert decode([i for i, k in zip(ids, m, strict=True) if not k]) == r["prompt"]
        assert decode([i for i, k in zip(ids, m, strict=True) if k]) == r["answer"]["text"]
    check_counts(tf, [r["prompt"] + r["answer"]["text"] for r in records])
    counted = fe.count_ngrams(tokens, 1, separator=tf.separator, mask=mask)
    assert counted.n == int(mask.sum())


# --- Hugging Face tokenizers ---------------------------------------------------------------------


def test_trained_bpe_round_trips_and_is_saved(tmp_path):
    paths = [write(tmp_path / f"{i}.txt", t) for i, t in enumerate(TEXTS)]
    seen = []
    tf = fe.tokenize(
        paths,
        ("train-bpe", 300),
        tmp_path / "out",
        batch_bytes=512,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert tf.tokenizer["name"] == "train-bpe:300" and tf.tokenizer["file"] == "out.tokenizer.json"
    tok = Tokenizer.from_file(str(tmp_path / "out.tokenizer.json"))
    assert tf.separator == tf.vocab_size <= 300
    assert [tok.decode(d) for d in documents(tf)] == TEXTS
    check_counts(tf, TEXTS)
    assert tf.n_tokens < tf.n_bytes  # merges were learned
    size = sum(os.path.getsize(p) for p in paths)
    assert seen[-1] == (2 * size, 2 * size)  # read twice: training, then encoding
    assert all(a[0] < b[0] for a, b in pairwise(seen))
    again = fe.tokenize(paths, ("train-bpe", 300), tmp_path / "again", batch_bytes=512)
    assert again.tokenizer["hash"] == tf.tokenizer["hash"]
    assert again.tokens().tolist() == tf.tokens().tolist()


@pytest.mark.parametrize("threads", [None, 1, 2, 3])
def test_tokenizer_file_and_object_agree_for_any_thread_count(tmp_path, bpe, threads):
    paths = [write(tmp_path / f"{i}.txt", t) for i, t in enumerate(TEXTS)]
    bpe.save(str(tmp_path / "tokenizer.json"))
    by_path = fe.tokenize(paths, tmp_path / "tokenizer.json", tmp_path / "a", threads=threads)
    by_object = fe.tokenize(paths, bpe, tmp_path / "b", batch_bytes=256, threads=threads)
    assert by_path.tokenizer["hash"] == by_object.tokenizer["hash"]
    assert by_path.tokenizer["name"] == str(tmp_path / "tokenizer.json")
    for tf in (by_path, by_object):
        assert [bpe.decode(d) for d in documents(tf)] == TEXTS
        check_counts(tf, TEXTS)
    direct = [bpe.encode(t, add_special_tokens=False).ids for t in TEXTS]
    assert documents(by_path) == direct  # one piece per document at the default batch size


def test_special_tokens_truncation_and_eot(tmp_path, bpe):
    tok = Tokenizer.from_str(bpe.to_str())
    eot = tok.token_to_id(EOT)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{EOT} $A {EOT}", special_tokens=[(EOT, eot)]
    )
    tok.enable_truncation(max_length=3)
    text = f"a document that mentions {EOT} in its text"
    path = write(tmp_path / "a.txt", text)
    tf = fe.tokenize(path, tok, tmp_path / "out", eot_token=EOT)
    assert tf.separator == eot and tf.vocab_size == bpe.get_vocab_size()
    ids = tf.tokens().tolist()
    assert ids.count(eot) == 1 and ids[-1] == eot  # no BOS/EOS added, the literal is text
    assert bpe.decode(ids[:-1]) == text  # not truncated
    assert tok.truncation is not None  # the caller's tokenizer is left as it was
    truncating = Tokenizer.from_str(bpe.to_str())
    truncating.enable_truncation(max_length=3)
    plain = fe.tokenize(path, bpe, tmp_path / "plain")
    assert (
        fe.tokenize(path, truncating, tmp_path / "t").tokenizer["hash"] == plain.tokenizer["hash"]
    )


def word_level(top: int) -> Tokenizer:
    """A word-level tokenizer whose largest id is ``top``, with an end-of-text token."""
    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "x": top}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.add_special_tokens([EOT])
    return tok


def test_dtype_follows_the_largest_id(tmp_path):
    path = write(tmp_path / "a.txt", "x y")
    assert fe.tokenize(path, word_level(65534), tmp_path / "a").dtype == "uint16"  # separator 65535
    big = fe.tokenize(path, word_level(65535), tmp_path / "b")
    assert (big.dtype, big.separator, big.tokens().tolist()) == ("uint32", 65536, [65535, 0, 65536])
    assert fe.tokenize(path, word_level(65535), tmp_path / "c", eot_token=EOT).dtype == "uint16"


def test_ids_beyond_uint32(tmp_path, monkeypatch):
    # tokenizers cannot serialise an id of 2**32 - 1 in reasonable time, so the limit is lowered.
    monkeypatch.setattr(fastentropy._text.tokenize, "UINT32_TOP", 1000)
    path = write(tmp_path / "a.txt", "x y")
    with pytest.raises(ValueError, match="ids up to 1001 .* do not fit uint32"):
        fe.tokenize(path, word_level(1000), tmp_path / "d")
    assert fe.tokenize(path, word_level(1000), tmp_path / "e", separator=False).n_tokens == 2


# --- the outputs --------------------------------------------------------------------------------


def test_tokenfile_open_and_checks(tmp_path):
    path = write(tmp_path / "a.txt", "hello")
    tf = fe.tokenize(path, "bytes", tmp_path / "out.bin")  # a .bin suffix names the stem
    for name in ("out", "out.bin", "out.json"):
        again = fe.TokenFile.open(tmp_path / name)
        assert again.path == tf.path == str(tmp_path / "out.bin")
        assert again.metadata == tf.metadata
    assert "n_tokens=6" in repr(tf)
    with open(tf.path, "ab") as f:
        f.write(b"\0\0")
    with pytest.raises(ValueError, match="do not belong together"):
        fe.TokenFile.open(tmp_path / "out")
    with pytest.raises(FileNotFoundError):
        fe.TokenFile.open(tmp_path / "missing")
    write(tmp_path / "other.json", json.dumps({"a": 1}))
    with pytest.raises(ValueError, match="not a token-file sidecar"):
        fe.TokenFile.open(tmp_path / "other")


def test_empty_corpus(tmp_path):
    tf = fe.tokenize(write(tmp_path / "a.txt", ""), "bytes", tmp_path / "out", doc="line")
    assert (tf.n_tokens, tf.n_documents, len(tf.tokens())) == (0, 0, 0)
    assert math.isnan(tf.bytes_per_token) and math.isnan(tf.chars_per_token)


def test_interrupted_run_leaves_nothing_that_looks_complete(tmp_path):
    path = write(tmp_path / "a.txt", "abc\n" * 1000)
    old = fe.tokenize(path, "bytes", tmp_path / "out", doc="file")
    before = {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)}

    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fe.tokenize(
            path, "bytes", tmp_path / "out", doc="line", batch_bytes=100, progress=interrupt
        )
    with pytest.raises(KeyboardInterrupt):
        fe.tokenize(path, "bytes", tmp_path / "new", batch_bytes=100, progress=interrupt)
    # The earlier outputs are untouched, no temporary file is left, no new output exists.
    assert {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)} == before
    assert fe.TokenFile.open(tmp_path / "out").n_tokens == old.n_tokens


def test_a_new_run_replaces_outputs_and_drops_a_stale_mask(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"text": "q", "a": "r"}])
    fe.tokenize(path, "bytes", tmp_path / "out", mask_field="a")
    assert (tmp_path / "out.mask").exists()
    tf = fe.tokenize(path, "bytes", tmp_path / "out")
    assert tf.mask() is None and not (tmp_path / "out.mask").exists()
    assert sorted(os.listdir(tmp_path)) == ["a.jsonl", "out.bin", "out.json"]


def test_progress_callable_and_line(tmp_path, capsys):
    # Files are read a MiB at a time: progress within a file moves in steps of that size.
    paths = [write(tmp_path / f"{i}.txt", t * 1000) for i, t in enumerate(TEXTS)]
    seen = []
    fe.tokenize(
        paths, "bytes", tmp_path / "out", batch_bytes=1 << 16, progress=lambda *a: seen.append(a)
    )
    total = sum(os.path.getsize(p) for p in paths)
    assert len(seen) > 3 and seen[-1] == (total, total)
    assert all(t == total and a < b for (a, t), (b, _) in pairwise(seen))
    fe.tokenize(paths, "bytes", tmp_path / "out", progress=True)
    err = capsys.readouterr().err
    assert "MB/s" in err and "tokens/s" in err and err.endswith("\n")


# --- bad input -----------------------------------------------------------------------------------


def test_missing_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        fe.tokenize(tmp_path / "nope.txt", "bytes", tmp_path / "out")
    with pytest.raises(FileNotFoundError, match=r"\*.jsonl"):
        fe.tokenize(tmp_path / "*.jsonl", "bytes", tmp_path / "out")
    with pytest.raises(IsADirectoryError, match="glob"):
        fe.tokenize(tmp_path, "bytes", tmp_path / "out")
    with pytest.raises(ValueError, match="empty"):
        fe.tokenize([], "bytes", tmp_path / "out")
    assert os.listdir(tmp_path) == []


def test_bad_jsonl(tmp_path):
    good = {"text": "ok", "n": 1, "a": {"b": "c"}}
    bad = write_jsonl(tmp_path / "bad.jsonl", [good, good], extra_lines=["{broken"])
    with pytest.raises(ValueError, match=r"bad\.jsonl:3: not valid JSON"):
        fe.tokenize(bad, "bytes", tmp_path / "out")
    path = write_jsonl(tmp_path / "a.jsonl", [good, {"other": 1}])
    with pytest.raises(ValueError, match=r"a\.jsonl:2: no field 'text'"):
        fe.tokenize(path, "bytes", tmp_path / "out")
    with pytest.raises(ValueError, match=r"a\.jsonl:1: field 'n' is int, not a string"):
        fe.tokenize(path, "bytes", tmp_path / "out", field="n")
    with pytest.raises(ValueError, match=r"a\.jsonl:1: no field 'a.b.c'"):
        fe.tokenize(path, "bytes", tmp_path / "out", field="a.b.c")
    surrogate = write(tmp_path / "s.jsonl", '{"text": "a\\ud800b"}\n')
    with pytest.raises(ValueError, match=r"s\.jsonl:1: an unpaired surrogate"):
        fe.tokenize(surrogate, "bytes", tmp_path / "out")
    tf = fe.tokenize(surrogate, "bytes", tmp_path / "out", errors="replace")
    assert byte_docs(tf) == ["a\ufffdb"]
    invalid = write(tmp_path / "u.jsonl", b'{"text": "ok"}\n{"text": "\xc3("}\n')
    with pytest.raises(ValueError, match=r"u\.jsonl:2: invalid UTF-8 at byte offset 25"):
        fe.tokenize(invalid, "bytes", tmp_path / "out")


def test_invalid_utf8_names_file_and_offset(tmp_path, bpe):
    path = write(tmp_path / "a.txt", "é" * 10 + "\n" + "ok\n" * 100)
    raw = bytearray(open(path, "rb").read())
    raw[250] = 0xFF
    write(path, bytes(raw))
    # Text for a tokenizer other than "bytes" (which keeps such bytes) must be UTF-8.
    with pytest.raises(ValueError, match=r"a\.txt: invalid UTF-8 at byte offset 250 \(bytes ff\)"):
        fe.tokenize(path, bpe, tmp_path / "out", batch_bytes=64)
    gz = write(tmp_path / "b.txt.gz", bytes(raw))
    with pytest.raises(ValueError, match="decompressed byte offset 250"):
        fe.tokenize(gz, bpe, tmp_path / "out")


def test_corrupt_compressed_files(tmp_path):
    data = gzip.compress(b"hello world" * 100)
    (tmp_path / "t.txt.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(OSError, match=r"t\.txt\.gz: the compressed stream is truncated"):
        fe.tokenize(tmp_path / "t.txt.gz", "bytes", tmp_path / "out")
    (tmp_path / "z.txt.zst").write_bytes(b"not zstd at all")
    with pytest.raises(OSError, match=r"z\.txt\.zst: not a valid zstd stream"):
        fe.tokenize(tmp_path / "z.txt.zst", "bytes", tmp_path / "out")


def test_bad_parquet(tmp_path):
    path = tmp_path / "a.parquet"
    pq.write_table(pa.table({"text": ["a", None], "n": [1, 2]}), path)
    with pytest.raises(ValueError, match=r"a\.parquet: no column 'body' \(columns: text, n\)"):
        fe.tokenize(path, "bytes", tmp_path / "out", field="body")
    with pytest.raises(ValueError, match=r"row 1 \(counting from 0\): 'text' is null"):
        fe.tokenize(path, "bytes", tmp_path / "out")
    with pytest.raises(ValueError, match="holds int64, not strings"):
        fe.tokenize(path, "bytes", tmp_path / "out", field="n")


def test_bad_tokenizers(tmp_path, bpe):
    path = write(tmp_path / "a.txt", "abc")
    write(tmp_path / "broken.json", '{"version": "1.0", "model": 42}')
    with pytest.raises(ValueError, match="is not a Hugging Face tokenizer.json"):
        fe.tokenize(path, tmp_path / "broken.json", tmp_path / "out")
    with pytest.raises(FileNotFoundError, match="gpt2"):
        fe.tokenize(path, "gpt2", tmp_path / "out")
    with pytest.raises(TypeError, match="tokenizer must be"):
        fe.tokenize(path, 42, tmp_path / "out")
    with pytest.raises(ValueError, match="256"):
        fe.tokenize(path, ("train-bpe", 100), tmp_path / "out")
    with pytest.raises(ValueError, match="must be in 256"):
        fe.tokenize(path, ("train-bpe", 2**32), tmp_path / "out")
    with pytest.raises(TypeError, match="vocab_size must be an int"):
        fe.tokenize(path, ("train-bpe", "300"), tmp_path / "out")
    with pytest.raises(ValueError, match=r"\('train-bpe', vocab_size\)"):
        fe.tokenize(path, ("bpe", 300), tmp_path / "out")
    with pytest.raises(ValueError, match="no named tokens"):
        fe.tokenize(path, "bytes", tmp_path / "out", eot_token=EOT)
    with pytest.raises(ValueError, match="is not a token of"):
        fe.tokenize(path, bpe, tmp_path / "out", eot_token="<eos>")
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "broken.json"]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"doc": "paragraph"}, ValueError, "doc must be"),
        ({"doc": "record"}, ValueError, r"doc='record' does not apply to .*a\.txt"),
        ({"mask_field": "answer"}, ValueError, "mask_field needs JSON Lines or Parquet"),
        ({"errors": "ignore"}, ValueError, "errors must be"),
        ({"threads": 0}, ValueError, "threads must be from 1"),
        ({"batch_bytes": "4MB"}, TypeError, "batch_bytes must be an int"),
        ({"batch_bytes": 0}, ValueError, "batch_bytes must be >= 1"),
        ({"separator": 1}, TypeError, "separator must be a bool"),
        ({"skip_bad_lines": "yes"}, TypeError, "skip_bad_lines must be a bool"),
        ({"progress": "yes"}, TypeError, "progress must be"),
        ({"eot_token": 5}, TypeError, "eot_token must be a str"),
        ({"field": "a..b"}, ValueError, "dotted path"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, error, match):
    path = write(tmp_path / "a.txt", "abc")
    with pytest.raises(error, match=match):
        fe.tokenize(path, "bytes", tmp_path / "out", **kwargs)


def test_doc_file_does_not_apply_to_records(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", RECORDS)
    with pytest.raises(ValueError, match=r"doc='file' does not apply to .*a\.jsonl"):
        fe.tokenize(path, "bytes", tmp_path / "out", doc="file")
    with pytest.raises(TypeError, match="inputs must be"):
        fe.tokenize(42, "bytes", tmp_path / "out")
