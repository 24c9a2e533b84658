import Kernels
print(BLAS.info)
