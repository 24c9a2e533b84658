#ifndef BACKPROP_MPI_H
#define BACKPROP_MPI_H

/// Open MPI, loaded at run time (dlopen of libmpi.so.40) only when a process was
/// started by mpirun: building and running Backprop needs no MPI. MPI's handles
/// (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are addresses of Open MPI's globals, looked
/// up here and never seen by Swift: each function below names what it works on.

/// Loads the library and its symbols; 0 on success, else see backprop_mpi_error().
int backprop_mpi_load(void);
const char *backprop_mpi_error(void);
/// MPI_Get_library_version's text (after a successful load).
const char *backprop_mpi_library_version(void);

int backprop_mpi_init(void);
/// MPI_Init_thread asking for MPI_THREAD_SERIALIZED (MPI called from a communication
/// thread besides the main one, never at the same time); 0 on success, -1 when the
/// library gives less.
int backprop_mpi_init_serialized(void);
int backprop_mpi_finalize(void);
/// This process's rank and the number of processes in MPI_COMM_WORLD.
int backprop_mpi_rank(void);
int backprop_mpi_size(void);
/// In-place sums over MPI_COMM_WORLD; 0 on success.
int backprop_mpi_sum_floats(float *values, int count);
int backprop_mpi_sum_doubles(double *values, int count);
/// Ends every process of the job with `code`.
void backprop_mpi_abort(int code);

#endif
