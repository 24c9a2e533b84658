"""Backprop's model files from Python: safetensors written and read by hand (the format
is an 8-byte little-endian header length, a JSON header, then the raw tensor bytes),
the JSON architecture, and PyTorch modules built from it. Used by make_fixtures.py and
check_backprop_model.py; needs only torch and numpy."""

import json
import struct

import numpy as np
import torch
from torch import nn

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8"}
NUMPY_TYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "U8": "|u1"}


def save_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} as safetensors, tensors sorted by name."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        tensor = tensors[name].detach().cpu().contiguous()
        data = tensor.numpy().astype(NUMPY_TYPES[DTYPES[tensor.dtype]], copy=False).tobytes()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def load_safetensors(path):
    """Reads a safetensors file into ({name: tensor}, metadata), checking every offset."""
    with open(path, "rb") as file:
        data = file.read()
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8:
        raise ValueError(f"{path}: header length {length} is longer than the file")
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    buffer = data[8 + length:]
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        if not 0 <= begin <= end <= len(buffer):
            raise ValueError(f"{path}: tensor {name}: offsets {entry['data_offsets']} out of range")
        array = np.frombuffer(buffer[begin:end], dtype=NUMPY_TYPES[entry["dtype"]]).reshape(entry["shape"])
        tensors[name] = torch.from_numpy(array.copy())
    return tensors, metadata


def activation_module(settings):
    """The PyTorch module of an activation configuration, PyTorch's defaults for the
    settings left out (as Backprop reads them): a plain "gelu" is the exact GELU."""
    function = settings["function"]
    if function == "leakyReLU":
        return nn.LeakyReLU(settings.get("negativeSlope", 0.01))
    if function == "gelu":
        return nn.GELU(approximate=settings.get("approximate", "none"))
    if function == "softmax":
        return nn.Softmax(dim=settings.get("axis", -1))
    if function == "logSoftmax":
        return nn.LogSoftmax(dim=settings.get("axis", -1))
    return {"identity": nn.Identity, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[function]()


def size(settings, key, default=None):
    """A size along (height, width): one integer or a pair, as Backprop reads it."""
    value = settings.get(key)
    if value is None:
        return default
    return tuple(value) if isinstance(value, list) else (value, value)


def module_from_configuration(configuration):
    """The PyTorch module for one Backprop LayerConfiguration (a one-key JSON object);
    optional keys take PyTorch's defaults, as in Backprop."""
    (kind, settings), = configuration.items()
    if kind == "dense":
        return nn.Linear(settings["inputSize"], settings["outputSize"], bias=settings.get("useBias", True))
    if kind == "activation":
        return activation_module(settings)
    if kind == "dropout":
        return nn.Dropout(settings["probability"])
    if kind == "sequential":
        return nn.Sequential(*[module_from_configuration(layer) for layer in settings["layers"]])
    if kind == "conv2D":
        return nn.Conv2d(settings["inputChannels"], settings["outputChannels"], size(settings, "kernelSize"),
                         stride=size(settings, "stride", 1), padding=size(settings, "padding", 0),
                         dilation=size(settings, "dilation", 1), bias=settings.get("useBias", True))
    if kind in ("maxPool2D", "avgPool2D"):
        kernel = size(settings, "kernelSize")
        options = dict(stride=size(settings, "stride", kernel), padding=size(settings, "padding", 0),
                       ceil_mode=settings.get("ceilMode", False))
        if kind == "maxPool2D":
            return nn.MaxPool2d(kernel, **options)
        return nn.AvgPool2d(kernel, count_include_pad=settings.get("countIncludePad", True), **options)
    if kind == "globalAveragePool2D":
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
    if kind == "flatten":
        return nn.Flatten()
    if kind == "batchNorm1D":
        return nn.BatchNorm1d(settings["features"], eps=settings.get("epsilon", 1e-5),
                              momentum=settings.get("momentum", 0.1))
    if kind == "batchNorm2D":
        return nn.BatchNorm2d(settings["channels"], eps=settings.get("epsilon", 1e-5),
                              momentum=settings.get("momentum", 0.1))
    raise ValueError(f"unknown layer configuration {kind!r}")


def configuration_of(module):
    """The Backprop LayerConfiguration of a PyTorch module (the inverse of the above),
    every key written, as Backprop writes them."""
    if isinstance(module, nn.Linear):
        return {"dense": {"inputSize": module.in_features, "outputSize": module.out_features,
                          "useBias": module.bias is not None}}
    for name, kind in [("relu", nn.ReLU), ("sigmoid", nn.Sigmoid), ("tanh", nn.Tanh), ("identity", nn.Identity)]:
        if isinstance(module, kind):
            return {"activation": {"function": name}}
    if isinstance(module, nn.LeakyReLU):
        return {"activation": {"function": "leakyReLU", "negativeSlope": module.negative_slope}}
    if isinstance(module, nn.GELU):
        return {"activation": {"function": "gelu", "approximate": module.approximate}}
    if isinstance(module, (nn.Softmax, nn.LogSoftmax)):
        if module.dim is None:
            raise ValueError(f"{module}: give dim (PyTorch's implicit choice is deprecated)")
        function = "softmax" if isinstance(module, nn.Softmax) else "logSoftmax"
        return {"activation": {"function": function, "axis": module.dim}}
    if isinstance(module, nn.Dropout):
        return {"dropout": {"probability": module.p}}
    if isinstance(module, nn.Sequential):
        return {"sequential": {"layers": [configuration_of(m) for m in module]}}
    if isinstance(module, nn.Conv2d):
        return {"conv2D": {"inputChannels": module.in_channels, "outputChannels": module.out_channels,
                           "kernelSize": list(module.kernel_size), "stride": list(module.stride),
                           "padding": list(module.padding), "dilation": list(module.dilation),
                           "useBias": module.bias is not None}}
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        if isinstance(module, nn.MaxPool2d) and pair(module.dilation) != [1, 1]:
            raise ValueError(f"{module}: Backprop's pooling has no dilation")
        settings = {"kernelSize": pair(module.kernel_size), "stride": pair(module.stride),
                    "padding": pair(module.padding), "ceilMode": module.ceil_mode}
        if isinstance(module, nn.MaxPool2d):
            return {"maxPool2D": settings}
        if module.divisor_override is not None:
            raise ValueError(f"{module}: Backprop's average pooling has no divisor_override")
        return {"avgPool2D": dict(settings, countIncludePad=module.count_include_pad)}
    if isinstance(module, nn.Flatten):
        return {"flatten": {}}
    if isinstance(module, nn.BatchNorm1d):
        return {"batchNorm1D": {"features": module.num_features, "momentum": module.momentum, "epsilon": module.eps}}
    if isinstance(module, nn.BatchNorm2d):
        return {"batchNorm2D": {"channels": module.num_features, "momentum": module.momentum, "epsilon": module.eps}}
    raise ValueError(f"no Backprop layer for {module}")


def pair(value):
    return list(value) if isinstance(value, (tuple, list)) else [value, value]


def architecture_json(model, scalar_type, input_shape, class_names=None):
    """Backprop's model.json for a PyTorch nn.Sequential."""
    architecture = {"format": "backprop-model", "version": 1, "scalarType": scalar_type,
                    "inputShape": list(input_shape), "layers": [configuration_of(m) for m in model]}
    if class_names is not None:
        architecture["classNames"] = class_names
    return json.dumps(architecture, indent=2, sort_keys=True) + "\n"


def state_dict_for_backprop(model):
    """The state_dict as Backprop reads it: every tensor, batch norm's int64
    num_batches_tracked included."""
    return dict(model.state_dict())
