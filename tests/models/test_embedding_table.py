"""The int8 word-embedding table: its rounding bound, the chunked safetensors reader, and the swap in a model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertModel

from models.embedding_table import Int8EmbeddingTable, compact_word_embeddings, read_safetensors_rows


def _table(rows: int = 1000, dim: int = 24) -> torch.Tensor:
    torch.manual_seed(0)
    table = torch.randn(rows, dim) * torch.linspace(0.01, 3.0, rows)[:, None]
    table[5] = 0.0  # an all-zero row must not divide by zero
    return table


def test_each_element_is_within_half_a_step_of_its_row() -> None:
    table = _table()
    compact = Int8EmbeddingTable.quantise(table, chunk_rows=64)
    ids = torch.arange(len(table))
    restored = compact(ids)
    step = table.abs().amax(dim=1, keepdim=True) / 127
    assert torch.all((restored - table).abs() <= step / 2 + 1e-7)
    assert torch.all(restored[5] == 0)
    assert compact(torch.tensor([[3, 7], [7, 3]])).shape == (2, 2, table.shape[1])
    assert compact(ids).dtype == torch.float32
    assert compact.to(torch.bfloat16)(ids).dtype == torch.bfloat16  # follows a whole-model cast


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_chunked_reads_equal_quantising_the_loaded_tensor(tmp_path: Path, dtype: torch.dtype) -> None:
    table = _table().to(dtype)
    path = tmp_path / "model.safetensors"
    save_file({"a.bias": torch.ones(3), "embeddings.word_embeddings.weight": table, "z": torch.zeros(2, 2)}, path)
    read = read_safetensors_rows(path, "embeddings.word_embeddings.weight", chunk_rows=97)
    assert read is not None
    direct = Int8EmbeddingTable.quantise(table)
    assert torch.equal(read.rows, direct.rows) and torch.equal(read.scale, direct.scale)
    assert read_safetensors_rows(path, "a.bias") is None  # 1-D
    assert read_safetensors_rows(path, "missing") is None


def test_compact_word_embeddings_in_a_saved_model(tmp_path: Path) -> None:
    config = BertConfig(
        vocab_size=500, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
    )
    torch.manual_seed(0)
    BertModel(config, add_pooling_layer=False).save_pretrained(tmp_path / "m")
    ids = torch.randint(5, 500, (4, 9))
    mask = torch.ones_like(ids)
    outputs = []
    for directory in (tmp_path / "m", tmp_path / "elsewhere"):  # from the file; from the loaded tensor
        model = BertModel.from_pretrained(tmp_path / "m", add_pooling_layer=False).eval()
        reference = model(input_ids=ids, attention_mask=mask).last_hidden_state
        assert compact_word_embeddings(model, str(directory))
        assert isinstance(model.embeddings.word_embeddings, Int8EmbeddingTable)
        with torch.inference_mode():
            out = model(input_ids=ids, attention_mask=mask).last_hidden_state
        cosine = torch.nn.functional.cosine_similarity(out, reference.detach(), dim=-1)
        assert cosine.min() > 0.999 and not torch.equal(out, reference)
        outputs.append(out)
    assert torch.equal(outputs[0], outputs[1])
    assert not compact_word_embeddings(torch.nn.Linear(2, 2), str(tmp_path))


def test_the_default_encoder_on_cpu_uses_the_int8_table_unless_told_not_to(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers.models import WordLevel

    from models.encoder import EncoderOptions, TextEncoder

    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    BertModel(config, add_pooling_layer=False).save_pretrained(tmp_path)
    tokenizer = Tokenizer(WordLevel({f"w{i}": i for i in range(50)}, unk_token="w1"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "tokenizer_config.json").write_text('{"tokenizer_class": "PreTrainedTokenizerFast"}')
    compact = TextEncoder(EncoderOptions(model=str(tmp_path), device="cpu"))
    plain = TextEncoder(EncoderOptions(model=str(tmp_path), device="cpu", int8_embedding_table=False))
    assert compact.int8_embedding_table and not plain.int8_embedding_table
    assert isinstance(plain.model.embeddings.word_embeddings, torch.nn.Embedding)
    texts = ["w3 w4 w5", "w7", "w9 w9 w9 w9 w12"]
    a, b = compact.encode(texts).embeddings, plain.encode(texts).embeddings
    assert np.min(np.sum(a * b, axis=1)) > 0.999


def test_the_setting_is_on_by_default_and_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.settings import Settings

    assert Settings().model.int8_embedding_table is True
    monkeypatch.setenv("LUISTER_MODEL__INT8_EMBEDDING_TABLE", "false")
    assert Settings().model.int8_embedding_table is False
