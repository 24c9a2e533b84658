#include "backprop_mpi.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

// Open MPI 4.1's ABI: handles are pointers to predefined global objects.
typedef void *handle;
typedef int (*init_fn)(int *, char ***);
typedef int (*init_thread_fn)(int *, char ***, int, int *);
typedef int (*finalize_fn)(void);
typedef int (*comm_int_fn)(handle, int *);
typedef int (*allreduce_fn)(const void *, void *, int, handle, handle, handle);
typedef int (*abort_fn)(handle, int);
typedef int (*version_fn)(char *, int *);

static struct {
  void *library;
  init_fn init;
  init_thread_fn init_thread;
  finalize_fn finalize;
  comm_int_fn rank, size;
  allreduce_fn allreduce;
  abort_fn abort;
  version_fn version;
  handle world, float_type, double_type, sum;
} mpi;

static char error[512];
static char version[1024];

#define MPI_IN_PLACE_ADDRESS ((void *)1)

const char *backprop_mpi_error(void) { return error; }
const char *backprop_mpi_library_version(void) { return version; }

int backprop_mpi_load(void) {
  if (mpi.library != NULL) return 0;
  // RTLD_GLOBAL: Open MPI's own plugins resolve their symbols against it.
  mpi.library = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
  if (mpi.library == NULL) {
    snprintf(error, sizeof error, "cannot load Open MPI (libmpi.so.40: install openmpi-bin): %s", dlerror());
    return 1;
  }
  struct { const char *name; void **slot; } symbols[] = {
      {"MPI_Init", (void **)&mpi.init},
      {"MPI_Init_thread", (void **)&mpi.init_thread},
      {"MPI_Finalize", (void **)&mpi.finalize},
      {"MPI_Comm_rank", (void **)&mpi.rank},
      {"MPI_Comm_size", (void **)&mpi.size},
      {"MPI_Allreduce", (void **)&mpi.allreduce},
      {"MPI_Abort", (void **)&mpi.abort},
      {"MPI_Get_library_version", (void **)&mpi.version},
      {"ompi_mpi_comm_world", &mpi.world},
      {"ompi_mpi_float", &mpi.float_type},
      {"ompi_mpi_double", &mpi.double_type},
      {"ompi_mpi_op_sum", &mpi.sum},
  };
  for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
    *symbols[i].slot = dlsym(mpi.library, symbols[i].name);
    if (*symbols[i].slot == NULL) {
      snprintf(error, sizeof error, "libmpi.so.40 has no symbol %s: not Open MPI 4", symbols[i].name);
      return 1;
    }
  }
  int length = 0;
  mpi.version(version, &length);
  if (strstr(version, "Open MPI") == NULL) {
    snprintf(error, sizeof error, "libmpi.so.40 is not Open MPI: %.200s", version);
    return 1;
  }
  return 0;
}

int backprop_mpi_init(void) { return mpi.init(NULL, NULL); }

// MPI_THREAD_SERIALIZED in Open MPI's mpi.h: calls from several threads, one at a time.
#define THREAD_SERIALIZED 2

int backprop_mpi_init_serialized(void) {
  int provided = -1;
  int status = mpi.init_thread(NULL, NULL, THREAD_SERIALIZED, &provided);
  if (status != 0) return status;
  return provided >= THREAD_SERIALIZED ? 0 : -1;
}
int backprop_mpi_finalize(void) { return mpi.finalize(); }

int backprop_mpi_rank(void) {
  int rank = -1;
  mpi.rank(mpi.world, &rank);
  return rank;
}

int backprop_mpi_size(void) {
  int size = 0;
  mpi.size(mpi.world, &size);
  return size;
}

int backprop_mpi_sum_floats(float *values, int count) {
  return mpi.allreduce(MPI_IN_PLACE_ADDRESS, values, count, mpi.float_type, mpi.sum, mpi.world);
}

int backprop_mpi_sum_doubles(double *values, int count) {
  return mpi.allreduce(MPI_IN_PLACE_ADDRESS, values, count, mpi.double_type, mpi.sum, mpi.world);
}

void backprop_mpi_abort(int code) { mpi.abort(mpi.world, code); }
