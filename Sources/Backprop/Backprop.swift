// The whole library in one import: `import Backprop` gives tensors and their automatic
// differentiation, layers, losses and optimisers, the training loop, the data readers
// and model files, exactly as importing each module would; and `BLAS`, to read or set the
// number of threads the matrix products use (`BLAS.setThreadCount(_:)`).
@_exported import enum Kernels.BLAS
@_exported import Datasets
@_exported import ModelFiles
@_exported import NeuralNetworks
@_exported import Tensors
@_exported import Training
