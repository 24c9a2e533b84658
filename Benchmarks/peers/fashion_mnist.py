"""Fashion-MNIST from its IDX files (gzip), as Debian's `dataset-fashion-mnist` installs
them in /usr/share/datasets/fashion-mnist/ (FASHION_MNIST_DIR overrides the folder).

An IDX file is a 4-byte magic number (two zero bytes, the element type, 0x08 for
unsigned bytes, and the number of dimensions), one big-endian uint32 per dimension,
then the elements in row-major order.
"""
import gzip
import os
import struct

import numpy as np

DIRECTORY = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def read_idx(path):
    """The unsigned bytes of one IDX file, shaped as its header says."""
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    zeros, element_type, dimensions = struct.unpack(">HBB", data[:4])
    if zeros != 0 or element_type != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes (magic {data[:4].hex()})")
    shape = struct.unpack(f">{dimensions}I", data[4:4 + 4 * dimensions])
    body = data[4 + 4 * dimensions:]
    if len(body) != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape}, {len(body)} bytes follow")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def split(name, directory=DIRECTORY):
    """(images, labels) of "train" or "test": float32 pixels / 255 in [N, 784], int64 labels."""
    image_file, label_file = FILES[name]
    images = read_idx(os.path.join(directory, image_file))
    labels = read_idx(os.path.join(directory, label_file))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{name}: {images.shape[0]} images but {labels.shape[0]} labels")
    pixels = images.reshape(images.shape[0], -1).astype(np.float32) / np.float32(255)
    return np.ascontiguousarray(pixels), labels.astype(np.int64)


def load(directory=DIRECTORY):
    """x_train [60000, 784], y_train, x_test [10000, 784], y_test."""
    return (*split("train", directory), *split("test", directory))
