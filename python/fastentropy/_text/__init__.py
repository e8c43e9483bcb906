"""Text to tokens: the readers of text corpora (``sources``), the tokenizers (``encoders``) and
the tokenization run that writes a token file with its sidecar (``tokenize``)."""
