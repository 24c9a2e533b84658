// im2col and col2im, the data movement around a convolution's GEMMs, as C loops that
// clang vectorises (AVX2 and baseline x86-64 versions, chosen when the library loads).
#ifndef BACKPROP_WINDOWS_H
#define BACKPROP_WINDOWS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A sliding window over planes of height×width: kernel, stride, padding and dilation,
/// and the number of output rows and columns they give.
typedef struct {
  int64_t height, width;
  int64_t kernel_height, kernel_width;
  int64_t stride_height, stride_width;
  int64_t padding_height, padding_width;
  int64_t dilation_height, dilation_width;
  int64_t output_height, output_width;
} backprop_window;

/// im2col: rows [first_row, end_row) (row = (channel·kernel_height + ky)·kernel_width + kx)
/// of the column matrix of `images` images, written to `columns` (row r starts at
/// columns + r·column_stride; image i's outputs at i·output_height·output_width within it,
/// row-major). Image i's channel c is the plane at x + i·image_stride + c·channel_stride.
/// Entries whose window reads padding are 0. Returns 0, or -1 when a kernel with more than 64 rows
/// and columns together needs memory that cannot be allocated (nothing is written then).
int backprop_unfold_f32(const float *x, float *columns, const backprop_window *w,
                         ptrdiff_t image_stride, ptrdiff_t channel_stride, size_t images,
                         size_t first_row, size_t end_row, size_t column_stride);
int backprop_unfold_f64(const double *x, double *columns, const backprop_window *w,
                         ptrdiff_t image_stride, ptrdiff_t channel_stride, size_t images,
                         size_t first_row, size_t end_row, size_t column_stride);

/// col2im, the adjoint of backprop_unfold: for images [first_image, end_image) and every
/// one of their `channels` channels, the plane (laid out as in backprop_unfold) is
/// overwritten with the sum of the column entries read from each of its elements. The
/// column entries that read padding may be set to 0. Returns 0, or -1 as backprop_unfold.
int backprop_fold_f32(float *columns, float *x, const backprop_window *w,
                       ptrdiff_t image_stride, ptrdiff_t channel_stride, size_t channels,
                       size_t first_image, size_t end_image, size_t column_stride);
int backprop_fold_f64(double *columns, double *x, const backprop_window *w,
                       ptrdiff_t image_stride, ptrdiff_t channel_stride, size_t channels,
                       size_t first_image, size_t end_image, size_t column_stride);

#ifdef __cplusplus
}
#endif

#endif
