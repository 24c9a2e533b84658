"""The mini-batch loop shared by the PyTorch versions of W1, W2, W3 and W5, and the
record every training workload reports."""
import numpy as np

import common


def torch_epochs(model, optimizer, x, y, batch, epochs, max_steps=None):
    """Trains with softmax cross-entropy (mean over the batch); each epoch visits the
    examples in the order of common.permutations. Returns the seconds and mean training
    loss of each epoch, and the steps of one epoch."""
    import torch
    loss_function = torch.nn.CrossEntropyLoss()
    starts = batches(x.shape[0], batch, max_steps)
    seconds, losses = [], []
    for order in common.permutations(x.shape[0], epochs):
        order = torch.from_numpy(order)
        start_time = common.now()
        total, seen = torch.zeros(()), 0
        for start in starts:
            rows = order[start:start + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(model(x[rows]), y[rows])
            loss.backward()
            optimizer.step()
            total += loss.detach() * rows.shape[0]
            seen += rows.shape[0]
        seconds.append(common.now() - start_time)
        losses.append(float(total) / seen)
    return seconds, losses, len(starts)


def torch_accuracy(model, x, y, batch=1000):
    import torch
    with torch.inference_mode():
        correct = sum(int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
                      for i in range(0, x.shape[0], batch))
    return correct / x.shape[0]


def batches(count, batch, max_steps=None):
    """The first index of each mini-batch of an epoch."""
    return range(0, count, batch)[:max_steps]


def record(seconds, losses, count, batch, steps, accuracy):
    """What a training workload reports, under the keys `backprop bench workload` uses;
    `steps` batches of `batch` out of `count` training examples per epoch."""
    epoch_s = common.epoch_seconds(seconds)
    examples = min(steps * batch, count)
    return {
        "epoch_s": epoch_s,
        "epoch_times_s": [round(s, 3) for s in seconds],
        "epochs": len(seconds),
        "examples": examples,
        "steps_per_epoch": steps,
        "us_per_step": epoch_s / steps * 1e6,
        "samples_per_s": examples / epoch_s,
        "train_loss_per_epoch": [round(l, 4) for l in losses],
        "test_acc": accuracy,
    }


def one_hot(labels, classes=10):
    return np.eye(classes, dtype=np.float32)[labels]
