// The whole library in one import: `import Backprop` gives tensors and their automatic
// differentiation, layers, losses and optimisers, the training loop, the data readers
// and model files, exactly as importing each module would.
@_exported import Datasets
@_exported import ModelFiles
@_exported import NeuralNetworks
@_exported import Tensors
@_exported import Training
