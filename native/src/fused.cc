// Fused kernels: ops that tfjs would run as many small kernels (each with its own pass over
// memory and its own engine overhead) done in one pass.
#include <algorithm>
#include <cmath>
#include <vector>
#include "fastmath.h"
#include "kernels.h"
#include "parallel.h"

namespace course {
namespace {

constexpr size_t kGrain = 1 << 13;     // elements per chunk (each a few dozen flops)
constexpr size_t kGainRows = 256;      // rows per block of LayerNorm's gain gradient

size_t rowGrain(size_t cols) { return std::max<size_t>(1, kGrain / std::max<size_t>(cols, 1)); }

}  // namespace

namespace {

void adamWRange(float* __restrict p, float* __restrict m, float* __restrict v, const float* __restrict g,
                size_t i0, size_t i1, float beta1, float beta2, float eps, float decay, float stepSize,
                float invSqrtCorrection2, float c1, float c2) {
  for (size_t i = i0; i < i1; i++) {
    const float gi = g[i];
    const float mi = beta1 * m[i] + c1 * gi;
    const float vi = beta2 * v[i] + c2 * (gi * gi);
    m[i] = mi;
    v[i] = vi;
    const float denom = std::sqrt(vi) * invSqrtCorrection2 + eps;
    p[i] = p[i] * decay - stepSize * (mi / denom);
  }
}

}  // namespace

// (The loop is a function of its own: through the lambda's captured pointers the compiler loses
// __restrict and does not vectorize it.)
void adamW(float* p, float* m, float* v, const float* g, size_t n, float beta1, float beta2, float eps,
           float decay, float stepSize, float invSqrtCorrection2, float gradScale) {
  const float c1 = (1.0f - beta1) * gradScale;
  const float c2 = (1.0f - beta2) * gradScale * gradScale;
  parallelFor(n, kGrain, [&](size_t i0, size_t i1) {
    adamWRange(p, m, v, g, i0, i1, beta1, beta2, eps, decay, stepSize, invSqrtCorrection2, c1, c2);
  });
}

void layerNormForward(const float* x, const float* gain, float* y, float* mean, float* rstd,
                      size_t rows, size_t cols, float eps) {
  parallelFor(rows, rowGrain(cols), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) {
      const float* __restrict xr = x + r * cols;
      float* __restrict yr = y + r * cols;
      const float mu = float(laneSum<double>(cols, [xr](size_t j) { return double(xr[j]); }) / double(cols));
      const double sq = laneSum<double>(cols, [xr, mu](size_t j) {
        const float d = xr[j] - mu;
        return double(d) * d;
      });
      const float rs = 1.0f / std::sqrt(float(sq / double(cols)) + eps);
      for (size_t j = 0; j < cols; j++) yr[j] = (xr[j] - mu) * rs * gain[j];
      mean[r] = mu;
      rstd[r] = rs;
    }
  });
}

void layerNormBackward(const float* dy, const float* x, const float* mean, const float* rstd,
                       const float* gain, float* dx, float* dgain, size_t rows, size_t cols) {
  // dgain sums over rows: each block of kGainRows rows sums into its own row of `partial`,
  // and the blocks are added in order afterwards, whatever the number of threads.
  const size_t blocks = blockCount(rows, kGainRows);
  std::vector<float> partial(blocks * cols, 0.0f);
  parallelFor(blocks, std::max<size_t>(1, rowGrain(cols) / kGainRows), [&](size_t b0, size_t b1) {
    for (size_t blk = b0; blk < b1; blk++) {
      float* __restrict dg = partial.data() + blk * cols;
      for (size_t r = blk * kGainRows; r < std::min(rows, (blk + 1) * kGainRows); r++) {
        const float* __restrict dyr = dy + r * cols;
        const float* __restrict xr = x + r * cols;
        float* __restrict dxr = dx + r * cols;
        const float mu = mean[r], rs = rstd[r];
        for (size_t j = 0; j < cols; j++) dg[j] += dyr[j] * ((xr[j] - mu) * rs);
        const double sumDxHat = laneSum<double>(cols, [dyr, gain](size_t j) { return double(dyr[j] * gain[j]); });
        const double sumDxHatXHat = laneSum<double>(cols, [dyr, gain, xr, mu, rs](size_t j) {
          return double(dyr[j] * gain[j]) * ((xr[j] - mu) * rs);
        });
        const float meanDxHat = float(sumDxHat / double(cols));
        const float meanDxHatXHat = float(sumDxHatXHat / double(cols));
        for (size_t j = 0; j < cols; j++) {
          const float xHat = (xr[j] - mu) * rs;
          dxr[j] = (dyr[j] * gain[j] - meanDxHat - xHat * meanDxHatXHat) * rs;
        }
      }
    }
  });
  for (size_t j = 0; j < cols; j++) {
    double sum = 0;
    for (size_t blk = 0; blk < blocks; blk++) sum += partial[blk * cols + j];
    dgain[j] = float(sum);
  }
}

namespace {

// tfjs's erf (Abramowitz & Stegun 7.1.26), as the cpu backend computes it, given expNegSq =
// exp(-x * x) (GELU's gradient needs that exponential for its density too).
inline float erfAS(float x, float expNegSq) {
  const float p = 0.3275911f, a1 = 0.254829592f, a2 = -0.284496736f, a3 = 1.421413741f,
              a4 = -1.453152027f, a5 = 1.061405429f;
  const float sign = x > 0 ? 1.0f : (x < 0 ? -1.0f : 0.0f);
  const float v = std::fabs(x);
  const float t = 1.0f / (1.0f + p * v);
  return sign * (1.0f - (((((a5 * t + a4) * t) + a3) * t + a2) * t + a1) * t * expNegSq);
}

}  // namespace

void gelu(const float* __restrict x, float* __restrict y, size_t n) {
  parallelFor(n, kGrain, [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; i++) {
      const float xi = x[i], u = xi * 0.70710678118654752f;
      y[i] = xi * (0.5f * (1.0f + erfAS(u, expNonPositive(-u * u))));
    }
  });
}

double crossEntropy(const float* logits, const int32_t* targets, float* lse, size_t rows, size_t cols) {
  std::vector<double> rowLoss(rows);
  parallelFor(rows, rowGrain(cols), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) {
      const float* __restrict x = logits + r * cols;
      const float m = laneMax(cols, [x](size_t j) { return x[j]; });
      const double sum = laneSum<double>(cols, [x, m](size_t j) { return double(expNonPositive(x[j] - m)); });
      const double l = double(m) + std::log(sum);
      lse[r] = float(l);
      rowLoss[r] = l - double(x[targets[r]]);
    }
  });
  double total = 0;
  for (double v : rowLoss) total += v;
  return total / double(rows);
}

void crossEntropyBackward(const float* logits, const int32_t* targets, const float* lse, float* dx, size_t rows,
                          size_t cols, float scale) {
  parallelFor(rows, rowGrain(cols), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) {
      const float* __restrict x = logits + r * cols;
      float* __restrict d = dx + r * cols;
      const float l = lse[r];
      for (size_t j = 0; j < cols; j++) d[j] = fastExp(x[j] - l) * scale;
      d[targets[r]] -= scale;
    }
  });
}

void dropout(const float* __restrict x, float* __restrict out, size_t n, const Dropout& drop) {
  parallelFor(n, kGrain, [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; i++) out[i] = drop.apply(x[i], i);
  });
}

void geluBackward(const float* __restrict dy, const float* __restrict x, float* __restrict dx, size_t n) {
  const float invSqrt2Pi = 0.39894228040143268f;
  parallelFor(n, kGrain, [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; i++) {
      const float xi = x[i], u = xi * 0.70710678118654752f;
      const float e = expNonPositive(-u * u);  // exp(-x^2 / 2): in erf(x / sqrt 2) and in the density
      const float cdf = 0.5f * (1.0f + erfAS(u, e));
      const float pdf = e * invSqrt2Pi;
      // An explicit fma: left to the compiler, the vectorized loop and its scalar remainder
      // contract this differently, and results would depend on where the threads' chunks end.
      dx[i] = dy[i] * std::fma(xi, pdf, cdf);
    }
  });
}

}  // namespace course
