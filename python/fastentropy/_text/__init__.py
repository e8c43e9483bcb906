"""Text to tokens: the readers of text corpora (``sources``), the tokenizers (``encoders``),
the core's exact byte-level BPE encoder used for them where it can be (``fastbpe``), and the
tokenization run that writes a token file with its sidecar (``tokenize``)."""
