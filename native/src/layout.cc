// Data movement: strided copies (transpose, slice), row-block copies (concat), gather and
// its gradient, unsorted segment sum. Copies move 4-byte words, so they serve float32 and
// int32 alike.
#include <algorithm>
#include <cstring>
#include "kernels.h"

namespace course {

void stridedCopy(const uint32_t* x, uint32_t* out, int rank, const int* shape, const int* strides,
                 size_t offset) {
  // merge dims where the outer one steps over exactly the inner one
  int dShape[kMaxRank];
  long dStride[kMaxRank];
  int r = 0;
  for (int i = 0; i < rank; i++) {
    if (shape[i] == 1) continue;
    if (r > 0 && dStride[r - 1] == long(strides[i]) * shape[i]) {
      dShape[r - 1] *= shape[i];
      dStride[r - 1] = strides[i];
      continue;
    }
    dShape[r] = shape[i];
    dStride[r] = strides[i];
    r++;
  }
  x += offset;
  if (r == 0) {
    out[0] = x[0];
    return;
  }
  const int inner = r - 1;
  const long n = dShape[inner], s = dStride[inner];
  long outer = 1;
  for (int i = 0; i < inner; i++) outer *= dShape[i];
  int idx[kMaxRank] = {0};
  long off = 0;
  for (long o = 0; o < outer; o++) {
    uint32_t* __restrict dst = out + o * n;
    const uint32_t* __restrict src = x + off;
    if (s == 1) std::memcpy(dst, src, n * sizeof(uint32_t));
    else for (long j = 0; j < n; j++) dst[j] = src[j * s];
    for (int k = inner - 1; k >= 0; k--) {
      off += dStride[k];
      if (++idx[k] < dShape[k]) break;
      off -= dStride[k] * dShape[k];
      idx[k] = 0;
    }
  }
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
