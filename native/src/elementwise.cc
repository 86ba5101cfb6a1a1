// Elementwise ops. Binary ops broadcast through per-dimension strides (0 on a broadcast
// dimension); dimensions that are contiguous for both inputs are merged first so the common
// cases (same shape, scalar, bias row) become one or two flat loops the compiler vectorizes.
#include <algorithm>
#include <cmath>
#include "fastmath.h"
#include "kernels.h"
#include "parallel.h"

namespace course {
namespace {

// Elements per chunk: a chunk should take longer than waking a thread (~5-20 us).
constexpr size_t kCheapGrain = 1 << 15;   // one add or multiply per element
constexpr size_t kCostlyGrain = 1 << 13;  // exp, erf, log, pow

struct Dims {
  int rank = 0;
  int shape[kMaxRank];
  long aStride[kMaxRank];
  long bStride[kMaxRank];
};

Dims coalesce(int rank, const int* shape, const int* aStrides, const int* bStrides) {
  Dims d;
  for (int i = 0; i < rank; i++) {
    if (shape[i] == 1) continue;
    if (d.rank > 0) {
      int j = d.rank - 1;
      // merge with the previous (outer) kept dim when that one steps over exactly this one
      if (d.aStride[j] == long(aStrides[i]) * shape[i] && d.bStride[j] == long(bStrides[i]) * shape[i]) {
        d.shape[j] *= shape[i];
        d.aStride[j] = aStrides[i];
        d.bStride[j] = bStrides[i];
        continue;
      }
    }
    d.shape[d.rank] = shape[i];
    d.aStride[d.rank] = aStrides[i];
    d.bStride[d.rank] = bStrides[i];
    d.rank++;
  }
  if (d.rank == 0) {
    d.rank = 1;
    d.shape[0] = 1;
    d.aStride[0] = d.bStride[0] = 0;
  }
  return d;
}

template <class F, int SA, int SB>
inline void innerLoop(const float* __restrict a, const float* __restrict b, float* __restrict out, long n, F f) {
  for (long j = 0; j < n; j++) out[j] = f(a[j * SA], b[j * SB]);
}

// Output elements [e0, e1): the first and last rows may be partial.
template <class F>
void binaryRange(const float* a, const float* b, float* out, const Dims& d, F f, size_t e0, size_t e1) {
  const int inner = d.rank - 1;
  const long n = d.shape[inner];
  const long sa = d.aStride[inner], sb = d.bStride[inner];
  int idx[kMaxRank] = {0};
  long aOff = 0, bOff = 0;
  long row = long(e0 / n), j = long(e0 % n);
  for (int k = inner - 1; k >= 0; k--) {
    idx[k] = int(row % d.shape[k]);
    row /= d.shape[k];
    aOff += idx[k] * d.aStride[k];
    bOff += idx[k] * d.bStride[k];
  }
  for (size_t e = e0; e < e1;) {
    const long len = std::min<long>(n - j, long(e1 - e));
    const float* ap = a + aOff + j * sa;
    const float* bp = b + bOff + j * sb;
    float* op = out + e;
    if (sa == 1 && sb == 1) innerLoop<F, 1, 1>(ap, bp, op, len, f);
    else if (sa == 1 && sb == 0) innerLoop<F, 1, 0>(ap, bp, op, len, f);
    else if (sa == 0 && sb == 1) innerLoop<F, 0, 1>(ap, bp, op, len, f);
    else for (long i = 0; i < len; i++) op[i] = f(ap[i * sa], bp[i * sb]);
    e += len;
    j = 0;
    // odometer over the outer dims
    for (int k = inner - 1; k >= 0; k--) {
      aOff += d.aStride[k];
      bOff += d.bStride[k];
      if (++idx[k] < d.shape[k]) break;
      aOff -= d.aStride[k] * d.shape[k];
      bOff -= d.bStride[k] * d.shape[k];
      idx[k] = 0;
    }
  }
}

template <class F>
void binaryLoop(const float* a, const float* b, float* out, const Dims& d, F f, size_t grain = kCheapGrain) {
  size_t total = 1;
  for (int i = 0; i < d.rank; i++) total *= size_t(d.shape[i]);
  parallelFor(total, grain, [&](size_t e0, size_t e1) { binaryRange(a, b, out, d, f, e0, e1); });
}

inline float jsMax(float x, float y) { return (x != x || y != y) ? NAN : (x > y ? x : y); }
inline float jsMin(float x, float y) { return (x != x || y != y) ? NAN : (x < y ? x : y); }

// tfjs's erf (Abramowitz & Stegun 7.1.26), the same formula the cpu backend uses.
inline float erfAS(float x) {
  const float p = 0.3275911f, a1 = 0.254829592f, a2 = -0.284496736f, a3 = 1.421413741f,
              a4 = -1.453152027f, a5 = 1.061405429f;
  float sign = x > 0 ? 1.0f : (x < 0 ? -1.0f : 0.0f);
  float v = std::fabs(x);
  float t = 1.0f / (1.0f + p * v);
  return sign * (1.0f - (((((a5 * t + a4) * t) + a3) * t + a2) * t + a1) * t * fastExp(-v * v));
}

template <class F>
void map(const float* __restrict x, float* __restrict out, size_t n, F f, size_t grain = kCostlyGrain) {
  parallelFor(n, grain, [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; i++) out[i] = f(x[i]);
  });
}

}  // namespace

void binary(BinaryOp op, const float* a, const float* b, float* out, int rank, const int* shape,
            const int* aStrides, const int* bStrides) {
  Dims d = coalesce(rank, shape, aStrides, bStrides);
  switch (op) {
    case kAdd: return binaryLoop(a, b, out, d, [](float x, float y) { return x + y; });
    case kSub: return binaryLoop(a, b, out, d, [](float x, float y) { return x - y; });
    case kMul: return binaryLoop(a, b, out, d, [](float x, float y) { return x * y; });
    case kDiv: return binaryLoop(a, b, out, d, [](float x, float y) { return x / y; });
    case kMax: return binaryLoop(a, b, out, d, jsMax);
    case kMin: return binaryLoop(a, b, out, d, jsMin);
    case kSquaredDiff: return binaryLoop(a, b, out, d, [](float x, float y) { return (x - y) * (x - y); });
    case kPow: return binaryLoop(a, b, out, d, [](float x, float y) { return float(std::pow(double(x), double(y))); }, kCostlyGrain);
  }
}

void unary(UnaryOp op, const float* x, float* out, size_t n) {
  switch (op) {
    case kExp: return map(x, out, n, [](float v) { return fastExp(v); });
    case kLog: return map(x, out, n, [](float v) { return std::log(v); });
    case kSqrt: return map(x, out, n, [](float v) { return std::sqrt(v); });
    case kRsqrt: return map(x, out, n, [](float v) { return 1.0f / std::sqrt(v); });
    case kTanh: return map(x, out, n, [](float v) { return fastTanh(v); });
    case kNeg: return map(x, out, n, [](float v) { return -v; }, kCheapGrain);
    case kSquare: return map(x, out, n, [](float v) { return v * v; }, kCheapGrain);
    case kAbs: return map(x, out, n, [](float v) { return std::fabs(v); }, kCheapGrain);
    case kRelu: return map(x, out, n, [](float v) { return v < 0 ? 0.0f : v; }, kCheapGrain);
    case kSigmoid: return map(x, out, n, [](float v) { return 1.0f / (1.0f + fastExp(-v)); });
    case kReciprocal: return map(x, out, n, [](float v) { return 1.0f / v; });
    case kErf: return map(x, out, n, erfAS);
    case kLog1p: return map(x, out, n, [](float v) { return std::log1p(v); });
    case kExpm1: return map(x, out, n, [](float v) { return std::expm1(v); });
    case kSoftplus: return map(x, out, n, [](float v) { return float(std::log1p(std::exp(-std::fabs(double(v)))) + std::max(double(v), 0.0)); });
    case kStep: return map(x, out, n, [](float v) { return v != v ? v : (v > 0 ? 1.0f : 0.0f); });
    case kSin: return map(x, out, n, [](float v) { return std::sin(v); });
    case kCos: return map(x, out, n, [](float v) { return std::cos(v); });
    case kSign: return map(x, out, n, [](float v) { return v != v ? v : v > 0 ? 1.0f : (v < 0 ? -1.0f : 0.0f); });
  }
}

void softmax(const float* x, float* out, size_t rows, size_t cols) {
  parallelFor(rows, std::max<size_t>(1, kCostlyGrain / std::max<size_t>(cols, 1)), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) {
      const float* __restrict xr = x + r * cols;
      float* __restrict o = out + r * cols;
      float m = -INFINITY;
      for (size_t j = 0; j < cols; j++) m = jsMax(m, xr[j]);
      for (size_t j = 0; j < cols; j++) o[j] = fastExp(xr[j] - m);
      double s = 0;
      for (size_t j = 0; j < cols; j++) s += o[j];
      const float sf = float(s);
      for (size_t j = 0; j < cols; j++) o[j] = o[j] / sf;
    }
  });
}

}  // namespace course
