// Elementwise ops. Binary ops broadcast through per-dimension strides (0 on a broadcast
// dimension); dimensions that are contiguous for both inputs are merged first so the common
// cases (same shape, scalar, bias row) become one or two flat loops the compiler vectorizes.
#include <algorithm>
#include <cmath>
#include "fastmath.h"
#include "kernels.h"

namespace course {
namespace {

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

template <class F>
void binaryLoop(const float* a, const float* b, float* out, const Dims& d, F f) {
  const int inner = d.rank - 1;
  const long n = d.shape[inner];
  const long sa = d.aStride[inner], sb = d.bStride[inner];
  long outer = 1;
  for (int i = 0; i < inner; i++) outer *= d.shape[i];
  int idx[kMaxRank] = {0};
  long aOff = 0, bOff = 0;
  for (long o = 0; o < outer; o++) {
    const float* ap = a + aOff;
    const float* bp = b + bOff;
    float* op = out + o * n;
    if (sa == 1 && sb == 1) innerLoop<F, 1, 1>(ap, bp, op, n, f);
    else if (sa == 1 && sb == 0) innerLoop<F, 1, 0>(ap, bp, op, n, f);
    else if (sa == 0 && sb == 1) innerLoop<F, 0, 1>(ap, bp, op, n, f);
    else for (long j = 0; j < n; j++) op[j] = f(ap[j * sa], bp[j * sb]);
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
void map(const float* __restrict x, float* __restrict out, size_t n, F f) {
  for (size_t i = 0; i < n; i++) out[i] = f(x[i]);
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
    case kPow: return binaryLoop(a, b, out, d, [](float x, float y) { return float(std::pow(double(x), double(y))); });
  }
}

void unary(UnaryOp op, const float* x, float* out, size_t n) {
  switch (op) {
    case kExp: return map(x, out, n, [](float v) { return fastExp(v); });
    case kLog: return map(x, out, n, [](float v) { return std::log(v); });
    case kSqrt: return map(x, out, n, [](float v) { return std::sqrt(v); });
    case kRsqrt: return map(x, out, n, [](float v) { return 1.0f / std::sqrt(v); });
    case kTanh: return map(x, out, n, [](float v) { return fastTanh(v); });
    case kNeg: return map(x, out, n, [](float v) { return -v; });
    case kSquare: return map(x, out, n, [](float v) { return v * v; });
    case kAbs: return map(x, out, n, [](float v) { return std::fabs(v); });
    case kRelu: return map(x, out, n, [](float v) { return v < 0 ? 0.0f : v; });
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
  for (size_t r = 0; r < rows; r++) {
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
}

}  // namespace course
