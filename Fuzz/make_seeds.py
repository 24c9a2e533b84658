#!/usr/bin/env python3
"""Writes the seed inputs of the fuzzers: small valid (and a few deliberately refused)
files of each format, and inputs of past findings, into Tests/FuzzCorpus/<reader>/seed-*. Run from anywhere; needs
NumPy. The fuzzers then grow each directory with the inputs that reach new code."""
import gzip
import io
import json
import os
import struct

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "FuzzCorpus")


def write(reader, name, data):
    directory = os.path.join(ROOT, reader)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "seed-" + name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


# IDX: two zero bytes, a type code, the rank, big-endian dimensions, big-endian values.
def idx(code, array):
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


images = (np.arange(2 * 3 * 3) * 13 % 256).astype(np.uint8).reshape(2, 3, 3)
labels = np.array([0, 9, 3, 1], dtype=np.uint8)
write("idx", "images-u8.idx", idx(0x08, images))
write("idx", "labels-u8.idx", idx(0x08, labels))
write("idx", "images-u8.idx.gz", gz(idx(0x08, images)))
write("idx", "labels-u8.idx.gz", gz(idx(0x08, labels)))
write("idx", "labels-two-members.idx.gz", gz(idx(0x08, labels)[:6]) + gz(idx(0x08, labels)[6:]))
write("idx", "i8.idx", idx(0x09, np.array([-128, -1, 0, 127], dtype=np.int8)))
write("idx", "i16.idx", idx(0x0B, np.array([[-300, 2], [7, 32767]], dtype=np.int16)))
write("idx", "i32.idx", idx(0x0C, np.array([-70000, 5, 1 << 30], dtype=np.int32)))
write("idx", "f32.idx", idx(0x0D, np.array([[0.5, -1.25], [3e38, 1e-40]], dtype=np.float32)))
write("idx", "f64.idx.gz", gz(idx(0x0E, np.array([1e308, -0.0, 2.5], dtype=np.float64))))
write("idx", "empty-dimension.idx", idx(0x08, np.zeros((0, 28), dtype=np.uint8)))

# CSV: a header row, then rows; the last column is the target.
csvs = {
    "classes.csv": "a,b,c,label\n1.5,2,-3e2,0\n4,5,6,1\n7,8,9,2\n",
    "text-labels-quoted.csv": 'sepal length,"sepal, width",species\n5.1,3.5,setosa\n"4.9", 3.0 ,"versi""color"\n6.3,\t2.9,virginica\n',
    "crlf-blank-lines.csv": "x,y\r\n1,2\r\n\r\n3,4\r\n5,6",
    "regression.csv": "size,rooms,price\n120.5,3,350000.25\n80,2,1.5e5\n200,5,7.25E5\n",
    "quoted-newline.csv": 'id,"note\nwith line break",target\n1,2,"a"\n3,4,"b"\n',
    "one-column.csv": "target\n1\n2\n",
    "text-feature.csv": "f,label\nred,1\nblue,0\n",
}
for name, text in csvs.items():
    write("csv", name, text.encode())

# NumPy .npy, as numpy writes it.
def npy(array, version=None):
    out = io.BytesIO()
    if version is None:
        np.save(out, array, allow_pickle=False)
    else:
        np.lib.format.write_array(out, array, version=version, allow_pickle=False)
    return out.getvalue()


write("npy", "f32-2x3-v1.npy", npy(np.arange(6, dtype=np.float32).reshape(2, 3)))
write("npy", "f64-v2.npy", npy(np.array([1.5, -2.0, np.pi]), version=(2, 0)))
write("npy", "f64-v3.npy", npy(np.array([[0.25]]), version=(3, 0)))
write("npy", "i32.npy", npy(np.array([1, -2, 3], dtype=np.int32)))
write("npy", "i64.npy", npy(np.array([[7, 8], [9, -10]], dtype=np.int64)))
write("npy", "u8.npy", npy(np.array([0, 255, 17], dtype=np.uint8)))
write("npy", "scalar.npy", npy(np.array(4.0, dtype=np.float32)))
write("npy", "zero-size.npy", npy(np.zeros((0, 3), dtype=np.float32)))
write("npy", "fortran-order.npy", npy(np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3))))
write("npy", "big-endian.npy", npy(np.array([1, 2], dtype=">i4")))
write("npy", "bool.npy", npy(np.array([True, False])))
object_header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
object_header += b" " * ((64 - (10 + len(object_header) + 1) % 64) % 64) + b"\n"
write("npy", "object.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(object_header)) + object_header)


# safetensors: 8-byte little-endian header length, JSON header, data block.
def safetensors(tensors, metadata=None):
    header, blob = {}, b""
    for name, array in tensors.items():
        data = array.astype(array.dtype.newbyteorder("<")).tobytes()
        dtype = {"float32": "F32", "float64": "F64", "int64": "I64", "int32": "I32", "uint8": "U8"}[array.dtype.name]
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [len(blob), len(blob) + len(data)]}
        blob += data
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + blob


write("safetensors", "dense-f32.safetensors", safetensors(
    {"0.weight": np.arange(6, dtype=np.float32).reshape(3, 2), "0.bias": np.array([0.5, -1, 2], dtype=np.float32)}))
write("safetensors", "f64-i64-metadata.safetensors", safetensors(
    {"w": np.array([[1.0, 2.0]]), "counts": np.array([1, 2, 3], dtype=np.int64)}, {"format": "pt", "epoch": "2"}))
write("safetensors", "i32-u8-scalar.safetensors", safetensors(
    {"a": np.array([-1, 2], dtype=np.int32), "b": np.array([255, 0, 7], dtype=np.uint8), "s": np.array(3.0, dtype=np.float32)}))
write("safetensors", "empty.safetensors", safetensors({}))
write("safetensors", "zero-size.safetensors", safetensors({"e": np.zeros((0, 4), dtype=np.float32)}))


# Past findings: a line break in a tensor name or data type once made a message of two lines.
def raw_safetensors(header, blob):
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + blob


write("safetensors", "newline-in-name-and-dtype.safetensors", raw_safetensors(
    {"a\nb": {"dtype": "X\n1", "shape": [1], "data_offsets": [0, 4]}}, bytes(4)))
write("safetensors", "newline-in-name-offsets.safetensors", raw_safetensors(
    {"a\nb": {"dtype": "F32", "shape": [1], "data_offsets": [0, 8]}}, bytes(4)))

# model.json architectures (compact JSON, so that each fits the fuzzers' 4096-byte inputs).
def arch(layers, scalar="float32", **extra):
    return json.dumps({"format": "backprop-model", "version": 1, "scalarType": scalar, "layers": layers, **extra},
                      separators=(",", ":")).encode()


def dense(i, o, bias=True):
    return {"dense": {"inputSize": i, "outputSize": o, "useBias": bias}}


def act(name):
    return {"activation": {"function": name}}


write("architecture", "mlp.json", arch([dense(6, 5), act("relu"), dense(5, 3), act("softmax")],
                                        inputShape=[6], classNames=["cat", "dog", "bird"], task="classification"))
write("architecture", "mlp-f64-regression.json", arch(
    [dense(4, 8), act("tanh"), {"dropout": {"probability": 0.25}}, dense(8, 1, False)], "float64",
    inputShape=[4], task="regression", featureNames=["a", "b", "c", "d"], targetName="y",
    preprocessing={"standardize": {"mean": [0, 1, 2, 3], "std": [1, 1, 1, 1]}},
    targetPreprocessing={"mean": 2.5, "std": 0.5}))
write("architecture", "cnn.json", arch([
    {"conv2D": {"inputChannels": 1, "outputChannels": 4, "kernelSize": [3, 3], "stride": [1, 1], "padding": [1, 1],
                "dilation": [1, 1], "useBias": True}},
    {"batchNorm2D": {"channels": 4, "momentum": 0.1, "epsilon": 1e-5}}, act("relu"),
    {"maxPool2D": {"kernelSize": [2, 2], "stride": [2, 2]}},
    {"avgPool2D": {"kernelSize": [2, 2], "stride": [1, 1]}}, {"flatten": {}},
    dense(36, 3)], inputShape=[1, 8, 8]))
write("architecture", "nested-global-pool.json", arch([
    {"sequential": {"layers": [
        {"conv2D": {"inputChannels": 3, "outputChannels": 2, "kernelSize": [1, 3], "stride": [2, 1], "padding": [0, 1],
                    "dilation": [1, 2], "useBias": False}}, act("gelu")]}},
    {"globalAveragePool2D": {}}, {"batchNorm1D": {"features": 2, "momentum": 0.9, "epsilon": 0.001}},
    dense(2, 1), act("sigmoid")], inputShape=[3, 5, 5], classNames=["no", "yes"]))
write("architecture", "leaky-identity.json", arch([dense(2, 2), act("leakyReLU"), act("identity")]))
