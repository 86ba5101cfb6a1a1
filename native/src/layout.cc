// Data movement: strided copies (transpose, slice), row-block copies (concat), gather and
// its gradient, unsorted segment sum. Copies move 4-byte words, so they serve float32 and
// int32 alike.
#include <algorithm>
#include <cstring>
#include "kernels.h"
#include "parallel.h"

namespace course {

namespace {

constexpr size_t kGrain = 1 << 15;  // 4-byte words moved per chunk

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

  size_t size() const {
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= size_t(shape[i]);
    return n;
  }

  // f(contiguousOffset, stridedOffset, length, rowStride) for the pieces of rows that make up
  // the contiguous elements [e0, e1) (the first and last may be parts of a row).
  template <class F>
  void forEachPiece(size_t e0, size_t e1, F f) const {
    const int inner = rank - 1;
    const long n = shape[inner], s = stride[inner];
    int idx[kMaxRank] = {0};
    long row = long(e0 / n), j = long(e0 % n), off = 0;
    for (int k = inner - 1; k >= 0; k--) {
      idx[k] = int(row % shape[k]);
      row /= shape[k];
      off += idx[k] * stride[k];
    }
    for (size_t e = e0; e < e1;) {
      const long len = std::min<long>(n - j, long(e1 - e));
      f(long(e), off + j * s, len, s);
      e += len;
      j = 0;
      for (int k = inner - 1; k >= 0; k--) {
        off += stride[k];
        if (++idx[k] < shape[k]) break;
        off -= stride[k] * shape[k];
        idx[k] = 0;
      }
    }
  }

  // The same over all elements, split among the pool's threads.
  template <class F>
  void forEachPieceParallel(F f) const {
    parallelFor(size(), kGrain, [&](size_t e0, size_t e1) { forEachPiece(e0, e1, f); });
  }
};

}  // namespace

void stridedCopy(const uint32_t* x, uint32_t* out, int rank, const int* shape, const int* strides,
                 size_t offset) {
  x += offset;
  StridedRows(rank, shape, strides).forEachPieceParallel([&](long o, long off, long n, long s) {
    uint32_t* __restrict dst = out + o;
    const uint32_t* __restrict src = x + off;
    if (s == 1) std::memcpy(dst, src, n * sizeof(uint32_t));
    else for (long j = 0; j < n; j++) dst[j] = src[j * s];
  });
}

void stridedScatter(const uint32_t* x, uint32_t* out, int rank, const int* shape,
                    const int* outStrides, size_t offset) {
  out += offset;
  StridedRows(rank, shape, outStrides).forEachPieceParallel([&](long o, long off, long n, long s) {
    const uint32_t* __restrict src = x + o;
    uint32_t* __restrict dst = out + off;
    if (s == 1) std::memcpy(dst, src, n * sizeof(uint32_t));
    else for (long j = 0; j < n; j++) dst[j * s] = src[j];
  });
}

void copy2d(const uint32_t* src, size_t srcStride, uint32_t* dst, size_t dstStride, size_t rows,
            size_t cols) {
  parallelFor(rows, kGrain / std::max<size_t>(cols, 1) + 1, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) std::memcpy(dst + r * dstStride, src + r * srcStride, cols * sizeof(uint32_t));
  });
}

bool gather(const uint32_t* x, const int32_t* idx, uint32_t* out, size_t outer, size_t axisDim,
            size_t inner, size_t nIdx) {
  for (size_t i = 0; i < nIdx; i++)
    if (idx[i] < 0 || size_t(idx[i]) >= axisDim) return false;
  parallelFor(outer * nIdx, kGrain / std::max<size_t>(inner, 1) + 1, [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) {
      const size_t o = r / nIdx, i = r % nIdx;
      std::memcpy(out + r * inner, x + (o * axisDim + idx[i]) * inner, inner * sizeof(uint32_t));
    }
  });
  return true;
}

void segmentSum(const float* x, const int32_t* ids, float* out, size_t n, size_t inner,
                size_t numSegments) {
  std::fill(out, out + numSegments * inner, 0.0f);
  // Ids may repeat, so threads split the columns, not the rows: each output element is summed
  // by one thread in row order.
  const size_t kColumns = 64;
  const size_t columnTasks = blockCount(inner, kColumns);
  parallelFor(columnTasks, kGrain / (std::max<size_t>(n, 1) * kColumns) + 1, [&](size_t c0, size_t c1) {
    const size_t q0 = c0 * kColumns, q1 = std::min(inner, c1 * kColumns);
    for (size_t i = 0; i < n; i++) {
      if (ids[i] < 0 || size_t(ids[i]) >= numSegments) continue;
      float* __restrict o = out + size_t(ids[i]) * inner;
      const float* __restrict xi = x + i * inner;
      for (size_t q = q0; q < q1; q++) o[q] += xi[q];
    }
  });
}

}  // namespace course
