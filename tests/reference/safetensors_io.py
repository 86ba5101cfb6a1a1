"""A tiny safetensors reader/writer (the `safetensors` package is not installed on Debian).

Format: 8-byte little-endian header length N, N bytes of JSON header
({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}), then the raw data.
"""
import json
import struct

import numpy as np
import torch

NUMPY_DTYPES = {
    "F64": np.float64, "F32": np.float32, "I64": np.int64, "I32": np.int32,
    "I16": np.int16, "I8": np.int8, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8,
}
NAMES = {np.dtype(v).str: k for k, v in NUMPY_DTYPES.items()}


def read_safetensors(path):
    """Returns ({name: torch.Tensor}, metadata dict)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=NUMPY_DTYPES[entry["dtype"]])
        tensors[name] = torch.from_numpy(array.reshape(entry["shape"]).copy())
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """tensors: {name: torch.Tensor or numpy array}; written in the given order."""
    header = {"__metadata__": metadata} if metadata else {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        array = np.require(t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t, requirements="C")
        array = array.astype(array.dtype.newbyteorder("<"), copy=False)
        blob = array.tobytes()
        header[name] = {"dtype": NAMES[array.dtype.str], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    encoded = json.dumps(header).encode()
    encoded += b" " * ((8 - len(encoded) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)
