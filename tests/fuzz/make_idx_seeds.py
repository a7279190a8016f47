#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_idx (corpus/fuzz_idx/): the input layout is described in fuzz_idx.cpp.
Run from anywhere: python3 tests/fuzz/make_idx_seeds.py"""
import os
import struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_idx")
os.makedirs(out, exist_ok=True)


def images(n, magic=2051, rows=28, cols=28, count=None, body=None):
    head = struct.pack(">IIII", magic, n if count is None else count, rows, cols)
    return head + (bytes((i * 37) % 256 for i in range(784 * n)) if body is None else body)


def labels(values, magic=2049, count=None):
    return struct.pack(">II", magic, len(values) if count is None else count) + bytes(values)


def seed(name, img, lab, flags=4, cut=0):
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([flags, cut]) + struct.pack("<H", len(img)) + img + lab)


seed("valid_plain", images(4), labels([0, 1, 0, 1]))
seed("valid_gzip", images(4), labels([1, 0, 1, 0]), flags=4 | 1 | 2)
seed("all_classes_held_in", images(2), labels([0, 1]), flags=0)
seed("truncated_gzip", images(4), labels([0, 1, 0, 1]), flags=4 | 1, cut=40)
seed("truncated_body", images(4)[:1000], labels([0, 1, 0, 1]))
seed("wrong_magic", images(2, magic=2049), labels([0, 1]))
seed("absurd_count", images(2, count=0xFFFFFFFF), labels([0, 1]))
seed("absurd_size", images(2, rows=65536, cols=65536), labels([0, 1]))
seed("label_above_9", images(2), labels([0, 12]))
seed("count_mismatch", images(2), labels([0, 1, 1]))
seed("trailing_bytes", images(2) + b"xyz", labels([0, 1]))
seed("empty", b"", b"")
