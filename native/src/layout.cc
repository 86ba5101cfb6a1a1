// Data movement: strided copies (transpose, slice), row-block copies (concat), gather and
// its gradient, unsorted segment sum. Copies move 4-byte words, so they serve float32 and
// int32 alike.
#include <algorithm>
#include <cstring>
#include "kernels.h"

namespace course {

namespace {

// The output index space of a strided copy, with dims merged where the outer one steps
// over exactly the inner one, iterated row by row (the innermost dim is a row).
struct StridedRows {
  int rank = 0;
  int shape[kMaxRank];
  long stride[kMaxRank];

  StridedRows(int r, const int* s, const int* strides) {
    for (int i = 0; i < r; i++) {
      if (s[i] == 1) continue;
      if (rank > 0 && stride[rank - 1] == long(strides[i]) * s[i]) {
        shape[rank - 1] *= s[i];
        stride[rank - 1] = strides[i];
        continue;
      }
      shape[rank] = s[i];
      stride[rank] = strides[i];
      rank++;
    }
    if (rank == 0) {
      shape[0] = 1;
      stride[0] = 1;
      rank = 1;
    }
  }

  // f(contiguousOffset, stridedOffset, rowLength, rowStride) for every row.
  template <class F>
  void forEachRow(F f) const {
    const int inner = rank - 1;
    const long n = shape[inner], s = stride[inner];
    long outer = 1;
    for (int i = 0; i < inner; i++) outer *= shape[i];
    int idx[kMaxRank] = {0};
    long off = 0;
    for (long o = 0; o < outer; o++) {
      f(o * n, off, n, s);
      for (int k = inner - 1; k >= 0; k--) {
        off += stride[k];
        if (++idx[k] < shape[k]) break;
        off -= stride[k] * shape[k];
        idx[k] = 0;
      }
    }
  }
};

}  // namespace

void stridedCopy(const uint32_t* x, uint32_t* out, int rank, const int* shape, const int* strides,
                 size_t offset) {
  x += offset;
  StridedRows(rank, shape, strides).forEachRow([&](long o, long off, long n, long s) {
    uint32_t* __restrict dst = out + o;
    const uint32_t* __restrict src = x + off;
    if (s == 1) std::memcpy(dst, src, n * sizeof(uint32_t));
    else for (long j = 0; j < n; j++) dst[j] = src[j * s];
  });
}

void stridedScatter(const uint32_t* x, uint32_t* out, int rank, const int* shape,
                    const int* outStrides, size_t offset) {
  out += offset;
  StridedRows(rank, shape, outStrides).forEachRow([&](long o, long off, long n, long s) {
    const uint32_t* __restrict src = x + o;
    uint32_t* __restrict dst = out + off;
    if (s == 1) std::memcpy(dst, src, n * sizeof(uint32_t));
    else for (long j = 0; j < n; j++) dst[j * s] = src[j];
  });
}

void copy2d(const uint32_t* src, size_t srcStride, uint32_t* dst, size_t dstStride, size_t rows,
            size_t cols) {
  for (size_t r = 0; r < rows; r++) std::memcpy(dst + r * dstStride, src + r * srcStride, cols * sizeof(uint32_t));
}

bool gather(const uint32_t* x, const int32_t* idx, uint32_t* out, size_t outer, size_t axisDim,
            size_t inner, size_t nIdx) {
  for (size_t i = 0; i < nIdx; i++)
    if (idx[i] < 0 || size_t(idx[i]) >= axisDim) return false;
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < nIdx; i++)
      std::memcpy(out + (o * nIdx + i) * inner, x + (o * axisDim + idx[i]) * inner, inner * sizeof(uint32_t));
  return true;
}

void segmentSum(const float* x, const int32_t* ids, float* out, size_t n, size_t inner,
                size_t numSegments) {
  std::fill(out, out + numSegments * inner, 0.0f);
  for (size_t i = 0; i < n; i++) {
    if (ids[i] < 0 || size_t(ids[i]) >= numSegments) continue;
    float* __restrict o = out + size_t(ids[i]) * inner;
    const float* __restrict xi = x + i * inner;
    for (size_t q = 0; q < inner; q++) o[q] += xi[q];
  }
}

}  // namespace course
