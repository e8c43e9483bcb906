"""The fast byte-level BPE encoder (``encoder="fast-bpe"``) against Hugging Face ``tokenizers``.

The reference is ``tokenizers`` itself: every id array below is compared with what
``Tokenizer.encode_batch_fast`` returns for the same texts, on byte-level BPEs trained here
with ``tokenizers`` (no network): ``train-bpe``'s own recipe at several sizes, a GPT-2-style
one (prefix space), and a Llama-3-style one (cl100k split, ``ignore_merges``).
"""

from __future__ import annotations

import glob
import json
import os

import fastentropy as fe
import numpy as np
import pytest
from fastentropy._text.encoders import HFEncoder
from fastentropy._text.fastbpe import CL100K, FastBPE, choose, fast_bpe_plan
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    models,
    normalizers,
    pre_tokenizers,
    trainers,
)

EOT = "<|endoftext|>"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def real_text() -> list[str]:
    """This repository's docs and Python sources: real prose, code, tables and numbers."""
    names = sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    names += sorted(glob.glob(os.path.join(ROOT, "python", "fastentropy", "*.py")))
    texts = []
    for name in names:
        with open(name, encoding="utf-8") as f:
            texts.append(f.read())
    assert sum(map(len, texts)) > 200_000
    return texts


TEXTS = real_text()
LINES = [line for t in TEXTS for line in t.splitlines(keepends=True)]


def train(vocab_size: int, style: str) -> Tokenizer:
    """A byte-level BPE of ``style``: "train-bpe" (fastentropy's recipe), "gpt2" (prefix
    space) or "llama3" (cl100k split then ByteLevel, ignore_merges), trained on TEXTS."""
    if style == "llama3":
        tok = Tokenizer(models.BPE(ignore_merges=True))
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(CL100K), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    else:
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=style == "gpt2")
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[EOT],
        show_progress=False,
    )
    tok.train_from_iterator(TEXTS, trainer=trainer)
    return tok


TOKENIZERS = {
    "train-bpe-300": train(300, "train-bpe"),
    "train-bpe-2000": train(2000, "train-bpe"),
    "train-bpe-8000": train(8000, "train-bpe"),
    "gpt2-2000": train(2000, "gpt2"),
    "llama3-2000": train(2000, "llama3"),
}


def both(tok: Tokenizer, threads: int | None = None) -> tuple[HFEncoder, FastBPE]:
    hf = HFEncoder(tok, "test")
    fast = choose(hf, "fast-bpe", threads)
    assert isinstance(fast, FastBPE)
    return hf, fast


ENCODERS = {name: both(tok) for name, tok in TOKENIZERS.items()}


def assert_same(name: str, texts: list[str]) -> None:
    hf, fast = ENCODERS[name]
    ids, lengths = fast.encode(texts)
    want = [e.ids for e in hf.tokenizer.encode_batch_fast(texts, add_special_tokens=False)]
    assert lengths.tolist() == [len(w) for w in want]
    got = np.split(ids, np.cumsum(lengths)[:-1]) if len(texts) else []
    for text, g, w in zip(texts, got, want, strict=True):
        assert g.tolist() == w, f"{name}: {text!r}"


@pytest.mark.parametrize("name", sorted(TOKENIZERS))
def test_real_text_documents_and_lines(name):
    assert_same(name, TEXTS)
    assert_same(name, LINES)


@pytest.mark.parametrize(("name", "offset"), [("gpt2-2000", 0), ("llama3-2000", 1)])
def test_every_code_point(name, offset):
    # Every Unicode scalar value run together (long pieces, each class boundary), in texts
    # of 2000 characters; and every third one after a space (" ?\p{L}+" and its kin), the
    # two tokenizers taking different thirds (all of them after a space: 15 s in tokenizers).
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    spaced = [f" {c}" for c in chars[offset::3]]
    texts = ["".join(chars[i : i + 2000]) for i in range(0, len(chars), 2000)]
    texts += ["".join(spaced[i : i + 1000]) for i in range(0, len(spaced), 1000)]
    assert_same(name, texts)


# Fragments that stress the split patterns: contractions in any case (ſ folds to s),
# whitespace of every kind before words and at ends, digit runs, combining marks, emoji ZWJ
# sequences, the special token written as text.
FRAGMENTS = st.sampled_from(
    [
        "'s", "'S", "'ſ", "'LL", "'ll", "'Re", "'ve", "'d", "'m", "'t", "''", "'",
        " ", "  ", "   ", "\t", "\n", "\r\n", "\r", "\u00a0", "\u3000", "\u2028", "\x0b", "\x85",
        "a", "word", " word", "Émile", "ǅ", "ß", "İ", "日本語", "한국어", "العربية",
        "1", "12", "123", "1234567", "٣٤٥", "½", "Ⅻ",
        "e\u0301", "\u0301", "a\u0308\u0323", "क्षि",
        "👩\u200d👩\u200d👧", "🏳️\u200d🌈", "👍🏽", "\u200d", "\ufe0f", "🇫🇷",
        "!", "...", "?!", "—", "«", "»", "(", ")", "$", "€", "\x00", "\x7f", "\ufffd",
        EOT, "<|", "|>",
    ]
)  # fmt: skip
PIECES = st.one_of(
    FRAGMENTS,
    st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
    st.builds(lambda c, n: c * n, st.sampled_from([" ", "7", "\n", "\t", "a", "é", "!"]),
              st.integers(1, 300)),
)  # fmt: skip
TEXT = st.lists(PIECES, max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=4), st.sampled_from(sorted(TOKENIZERS)))
def test_any_text(texts, name):
    assert_same(name, texts)


def test_edge_cases():
    texts = ["", " ", "  x", "x", "\n", " \n ", f"x {EOT}y", f"{EOT}'s", f"  {EOT}  ", "'ſ 'S"]
    for name in TOKENIZERS:
        assert_same(name, texts)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_thread_count_changes_nothing(threads):
    _, fast = both(TOKENIZERS["train-bpe-2000"], threads)
    _, one = both(TOKENIZERS["train-bpe-2000"], 1)
    texts = LINES * 3
    a, b = fast.encode(texts), one.encode(texts)
    assert a[0].tolist() == b[0].tolist() and a[1].tolist() == b[1].tolist()


# --- fe.tokenize: the choice of encoder, the sidecar and the switch ------------------------------


def write(path, data: str | bytes) -> str:
    with open(path, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return str(path)


@pytest.mark.parametrize("name", ["gpt2-2000", "llama3-2000"])
@pytest.mark.parametrize("doc", ["file", "line"])
def test_tokenize_both_paths_write_the_same_files(tmp_path, name, doc):
    paths = [write(tmp_path / f"{i}.txt", t) for i, t in enumerate(TEXTS[:6])]
    tok = TOKENIZERS[name]
    tok.save(str(tmp_path / "tokenizer.json"))
    runs = {}
    for encoder in ["auto", "fast-bpe", "tokenizers"]:
        tf = fe.tokenize(
            paths, tmp_path / "tokenizer.json", tmp_path / encoder, doc=doc, encoder=encoder,
            eot_token=EOT, batch_bytes=4096, threads=2,
        )  # fmt: skip
        runs[encoder] = tf
    assert runs["auto"].encoder == runs["fast-bpe"].encoder == "fast-bpe"
    assert runs["tokenizers"].encoder == "tokenizers"
    assert runs["auto"].metadata["encoder"] == "fast-bpe"
    reference = runs["tokenizers"]
    for tf in runs.values():
        assert tf.tokens().tolist() == reference.tokens().tolist()
        assert tf.tokenizer == reference.tokenizer
        for field in ("n_tokens", "n_documents", "n_bytes", "n_chars"):
            assert getattr(tf, field) == getattr(reference, field)


@pytest.mark.parametrize("errors", ["strict", "replace"])
def test_invalid_utf8_is_handled_as_by_tokenizers(tmp_path, errors):
    path = write(tmp_path / "bad.txt", b"caf\xc3\xa9 ok\n\xff\xfe bad \xed\xa0\x80 bytes\n")
    tok = TOKENIZERS["gpt2-2000"]
    results = {}
    for encoder in ["fast-bpe", "tokenizers"]:
        try:
            tf = fe.tokenize(path, tok, tmp_path / encoder, errors=errors, encoder=encoder)
            results[encoder] = tf.tokens().tolist()
        except ValueError as e:
            results[encoder] = str(e)
    assert results["fast-bpe"] == results["tokenizers"]
    assert isinstance(results["tokenizers"], list if errors == "replace" else str)


def test_train_bpe_takes_the_fast_path(tmp_path):
    path = write(tmp_path / "a.txt", "".join(TEXTS[:4]))
    fast = fe.tokenize(path, ("train-bpe", 600), tmp_path / "fast")
    slow = fe.tokenize(path, ("train-bpe", 600), tmp_path / "slow", encoder="tokenizers")
    assert (fast.encoder, slow.encoder) == ("fast-bpe", "tokenizers")
    assert fast.tokens().tolist() == slow.tokens().tolist()
    assert os.path.exists(tmp_path / "fast.tokenizer.json")


def other_tokenizers() -> dict[str, tuple[Tokenizer, str]]:
    """Tokenizers the fast path must leave to ``tokenizers``, with why."""
    wordpiece = Tokenizer(models.WordPiece({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    wordpiece.pre_tokenizer = pre_tokenizers.Whitespace()
    normalized = Tokenizer.from_str(TOKENIZERS["gpt2-2000"].to_str())
    normalized.normalizer = normalizers.NFC()
    added = Tokenizer.from_str(TOKENIZERS["gpt2-2000"].to_str())
    added.add_tokens(["hello world"])
    metaspace = Tokenizer.from_str(TOKENIZERS["gpt2-2000"].to_str())
    metaspace.pre_tokenizer = pre_tokenizers.Metaspace()
    split = Tokenizer.from_str(TOKENIZERS["llama3-2000"].to_str())
    split.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(r"\p{N}|\s+"), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    return {
        "wordpiece": (wordpiece, "a WordPiece model, not BPE"),
        "normalizer": (normalized, "a normalizer"),
        "added": (added, "the added token 'hello world' is not special"),
        "metaspace": (metaspace, "the Metaspace pre-tokenizer"),
        "split": (split, "a Split pattern other than GPT-2's or cl100k's"),
    }


@pytest.mark.parametrize("case", sorted(other_tokenizers()))
def test_other_tokenizers_go_through_tokenizers(tmp_path, case):
    tok, why = other_tokenizers()[case]
    assert fast_bpe_plan(json.loads(tok.to_str())) == why
    path = write(tmp_path / "a.txt", "hello world 123 ab")
    tf = fe.tokenize(path, tok, tmp_path / "out")
    assert tf.encoder == "tokenizers"
    with pytest.raises(ValueError, match="cannot encode tokenizer .* exactly: it has " + why):
        fe.tokenize(path, tok, tmp_path / "out2", encoder="fast-bpe")


def test_bytes_and_bad_switch(tmp_path):
    path = write(tmp_path / "a.txt", "abc")
    assert fe.tokenize(path, "bytes", tmp_path / "b").encoder == "bytes"
    with pytest.raises(ValueError, match="encoder must be one of"):
        fe.tokenize(path, "bytes", tmp_path / "c", encoder="fast")


def test_cli_encoder_switch(tmp_path):
    from fastentropy._cli import main

    path = write(tmp_path / "a.txt", TEXTS[0])
    TOKENIZERS["gpt2-2000"].save(str(tmp_path / "tok.json"))
    outs = {}
    for encoder in ["auto", "tokenizers"]:
        out = tmp_path / encoder
        argv = ["tokenize", path, "-o", str(out), "--tokenizer", str(tmp_path / "tok.json")]
        assert main([*argv, "--encoder", encoder]) == 0
        outs[encoder] = fe.TokenFile.open(out)
    assert (outs["auto"].encoder, outs["tokenizers"].encoder) == ("fast-bpe", "tokenizers")
    assert outs["auto"].tokens().tolist() == outs["tokenizers"].tokens().tolist()


EMPTY_NORMALIZER = {"type": "Sequence", "normalizers": []}


def edited(name: str, edit) -> Tokenizer:
    """A copy of TOKENIZERS[name] with its tokenizer.json changed by ``edit(config)``."""
    config = json.loads(TOKENIZERS[name].to_str())
    edit(config)
    return Tokenizer.from_str(json.dumps(config))


def test_variants_that_change_nothing_stay_fast():
    # byte_fallback never applies when every byte has a token; an empty normalizer Sequence
    # does nothing; a special token with lstrip/rstrip is text like any other.
    fallback = edited("gpt2-2000", lambda c: c["model"].update(byte_fallback=True))
    empty = edited("llama3-2000", lambda c: c.update(normalizer=EMPTY_NORMALIZER))
    stripped = Tokenizer.from_str(TOKENIZERS["gpt2-2000"].to_str())
    stripped.add_special_tokens([AddedToken("<|sp|>", lstrip=True, rstrip=True, special=True)])
    texts = [*LINES[:300], "a <|sp|> b", "<|sp|>x", f"  <|sp|>  {EOT} "]
    for tok in (fallback, empty, stripped):
        hf, fast = both(tok)
        ids, lengths = fast.encode(texts)
        want = [e.ids for e in hf.tokenizer.encode_batch_fast(texts, add_special_tokens=False)]
        assert ids.tolist() == [i for w in want for i in w]
        assert lengths.tolist() == [len(w) for w in want]


def test_missing_byte_token_goes_through_tokenizers():
    def drop_byte(config):
        vocab = config["model"]["vocab"]
        del vocab["Ā"]  # byte 0x00
        config["model"]["merges"] = [
            m
            for m in config["model"]["merges"]
            if "Ā" not in (m if isinstance(m, str) else "".join(m))
        ]

    tok = edited("train-bpe-300", drop_byte)
    assert fast_bpe_plan(json.loads(tok.to_str())) == "not every byte has a token"
