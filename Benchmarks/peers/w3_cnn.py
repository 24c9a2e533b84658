"""W3 (PyTorch only): conv 1→32 3×3 pad 1, ReLU, max-pool 2, conv 32→64 3×3 pad 1, ReLU,
max-pool 2, flatten (3136), dense 128, ReLU, dense 10; softmax cross-entropy, SGD with
momentum 0.9, learning rate 0.05, batch 64, 2 epochs, on images shaped [N, 1, 28, 28].
PyTorch's own initialisation after torch.manual_seed.
"""
import common
import fashion_mnist
import training

LEARNING_RATE, MOMENTUM, BATCH = 0.05, 0.9, 64


def run(tool, options):
    if tool != "torch":
        raise SystemExit("W3 has a PyTorch version only")
    import torch
    torch.manual_seed(common.INIT_SEED)
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    x_train, y_train, x_test, y_test = (torch.from_numpy(a) for a in fashion_mnist.load())
    x_train, x_test = x_train.reshape(-1, 1, 28, 28), x_test.reshape(-1, 1, 28, 28)
    epochs = options.epochs or (1 if options.quick else 2)
    max_steps = 30 if options.quick else None
    seconds, losses, steps = training.torch_epochs(model, optimizer, x_train, y_train, BATCH, epochs, max_steps)
    accuracy = training.torch_accuracy(model, x_test, y_test)
    return training.record(seconds, losses, x_train.shape[0], BATCH, steps, accuracy)
