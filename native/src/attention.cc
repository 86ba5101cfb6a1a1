// Fused causal self-attention: per (batch, head), scores = scale * q k^T, a causal softmax,
// y = probs v; the heads are read from and written to their columns of the [B*T, 3C] and
// [B*T, C] matrices through leading dimensions, so no transposes are needed.
//
// The (batch, head) pairs run in parallel, each task in T x T scratch of its own thread's. The
// attention weights are not kept for the backward pass (B * nHead * T * T floats per layer, 100 MB
// for baby GPT): only each row's max and 1 / sum of exponentials, from which the backward pass
// recomputes the same weights bit for bit (one more T x T x headSize product per pair).
#include <algorithm>
#include <cmath>
#include <vector>
#include "fastmath.h"
#include "kernels.h"
#include "parallel.h"
#include "random.h"

namespace course {
namespace {

// Causal products in row blocks of kRows: queries [i0, i0 + rows) only meet keys [0, i0 + rows),
// so about half of each T x T product is never computed (5/8 of it for T = 256).
constexpr int kRows = 64;

template <class F>
void forEachRowBlock(int T, F f) {
  for (int i0 = 0; i0 < T; i0 += kRows) f(i0, std::min(kRows, T - i0));
}

// p = scale * q k^T over a head's rows, then exp(p - rowMax) / rowSum on and below the diagonal
// and 0 above it. The forward pass writes each row's max and 1 / sum to rowStats; the backward
// pass passes them back as `known`, and gets the forward pass's weights exactly.
void causalProbs(const float* q, const float* k, int ld, int T, int hs, float scale, float* p, const float* known,
                 float* rowStats) {
  forEachRowBlock(T, [&](int i0, int rows) {
    const size_t keys = size_t(i0) + rows;
    gemm(false, true, rows, int(keys), hs, scale, q + size_t(i0) * ld, ld, k, ld, p + size_t(i0) * T, T);
    for (int i = i0; i < i0 + rows; i++) {
      float* __restrict row = p + size_t(i) * T;
      const size_t n = size_t(i) + 1;  // keys 0 .. i
      const float m = known ? known[2 * i] : laneMax(n, [row](size_t j) { return row[j]; });
      for (size_t j = 0; j < n; j++) row[j] = expNonPositive(row[j] - m);
      float inv;
      if (known) {
        inv = known[2 * i + 1];
      } else {
        inv = float(1.0 / laneSum<double>(n, [row](size_t j) { return double(row[j]); }));
        rowStats[2 * i] = m;
        rowStats[2 * i + 1] = inv;
      }
      for (size_t j = 0; j < n; j++) row[j] *= inv;
      for (size_t j = n; j < size_t(T); j++) row[j] = 0.0f;
    }
  });
}

// out[i0 : i0 + rows] = m[i0 : i0 + rows, 0 : i0 + rows] x b[0 : i0 + rows], m lower triangular
// (T x T, row-major), b and out with leading dimensions ldb and ldo.
void lowerTimes(const float* m, int T, const float* b, int ldb, float* out, int ldo, int hs) {
  forEachRowBlock(T, [&](int i0, int rows) {
    gemm(false, false, rows, hs, i0 + rows, 1.0f, m + size_t(i0) * T, T, b, ldb, out + size_t(i0) * ldo, ldo);
  });
}

// out[j0 : j0 + cols] = m[j0 : T, j0 : j0 + cols]^T x b[j0 : T], m lower triangular: row i of m
// has nothing in columns past i, so the transposed product starts at row j0.
void lowerTransposedTimes(const float* m, int T, const float* b, int ldb, float* out, int ldo, int hs) {
  forEachRowBlock(T, [&](int j0, int cols) {
    gemm(true, false, cols, hs, T - j0, 1.0f, m + size_t(j0) * T + j0, T, b + size_t(j0) * ldb, ldb,
         out + size_t(j0) * ldo, ldo);
  });
}

}  // namespace

// Multiplies p's lower triangle (row i, keys 0..i) by the dropout factors of (B * nHead, T, T)
// elements from `base` on; with `factors`, stores the factors there too (0 above the diagonal).
void dropWeights(float* p, int T, size_t base, const Dropout& drop, float* factors = nullptr) {
  for (int i = 0; i < T; i++) {
    float* __restrict row = p + size_t(i) * T;
    const size_t rowBase = base + size_t(i) * T;
    if (factors) {
      float* __restrict f = factors + size_t(i) * T;
      for (int j = 0; j <= i; j++) f[j] = drop.factor(rowBase + j);
      for (int j = i + 1; j < T; j++) f[j] = 0.0f;
      for (int j = 0; j <= i; j++) row[j] *= f[j];
    } else {
      for (int j = 0; j <= i; j++) row[j] *= drop.factor(rowBase + j);
    }
  }
}

void causalAttentionForward(const float* qkv, float* y, float* stats, int B, int T, int nHead, int C,
                            float scale, const Dropout& drop) {
  const int hs = C / nHead, ld = 3 * C;
  parallelFor(size_t(B) * nHead, 1, [&](size_t t0, size_t t1) {
    std::vector<float> p(size_t(T) * T);
    for (size_t task = t0; task < t1; task++) {
      const int b = int(task / nHead), h = int(task % nHead);
      const float* q = qkv + size_t(b) * T * ld + h * hs;
      causalProbs(q, q + C, ld, T, hs, scale, p.data(), nullptr, stats + task * 2 * T);
      if (drop.on()) dropWeights(p.data(), T, task * T * T, drop);
      lowerTimes(p.data(), T, q + 2 * C, ld, y + size_t(b) * T * C + h * hs, C, hs);
    }
  });
}

void causalAttentionBackward(const float* dy, const float* qkv, const float* stats, float* dqkv, int B, int T,
                             int nHead, int C, float scale, const Dropout& drop) {
  const int hs = C / nHead, ld = 3 * C;
  parallelFor(size_t(B) * nHead, 1, [&](size_t t0, size_t t1) {
    std::vector<float> p(size_t(T) * T), dp(size_t(T) * T), kept(drop.on() ? size_t(T) * T : 0);
    for (size_t task = t0; task < t1; task++) {
      const int b = int(task / nHead), h = int(task % nHead);
      const size_t rowOffset = size_t(b) * T * ld + h * hs;
      const float* q = qkv + rowOffset;
      const float* k = q + C;
      const float* v = q + 2 * C;
      const float* g = dy + size_t(b) * T * C + h * hs;
      float* dq = dqkv + rowOffset;
      float* dk = dq + C;
      float* dv = dq + 2 * C;
      causalProbs(q, k, ld, T, hs, scale, p.data(), stats + task * 2 * T, nullptr);
      forEachRowBlock(T, [&](int i0, int rows) {  // dP = dY V^T, on and below the diagonal blocks
        gemm(false, true, rows, i0 + rows, hs, 1.0f, g + size_t(i0) * C, C, v, ld, dp.data() + size_t(i0) * T, T);
      });
      if (drop.on()) {
        // With dropout, y = (P M) V: dV = (P M)^T dY and the softmax sees dP M.
        dropWeights(dp.data(), T, task * T * T, drop, kept.data());
        for (size_t e = 0; e < size_t(T) * T; e++) kept[e] *= p[e];
        lowerTransposedTimes(kept.data(), T, g, C, dv, ld, hs);
      } else {
        lowerTransposedTimes(p.data(), T, g, C, dv, ld, hs);  // dV = P^T dY
      }
      // softmax backward, in place in dp: dS = P (dP - rowsum(dP P)) * scale
      for (int i = 0; i < T; i++) {
        const float* __restrict pr = p.data() + size_t(i) * T;
        float* __restrict dr = dp.data() + size_t(i) * T;
        const size_t n = size_t(i) + 1;
        const float d = float(laneSum<double>(n, [pr, dr](size_t j) { return double(dr[j]) * pr[j]; }));
        for (size_t j = 0; j < n; j++) dr[j] = pr[j] * (dr[j] - d) * scale;
        for (size_t j = n; j < size_t(T); j++) dr[j] = 0.0f;
      }
      lowerTimes(dp.data(), T, k, ld, dq, ld, hs);            // dQ = dS K
      lowerTransposedTimes(dp.data(), T, q, ld, dk, ld, hs);  // dK = dS^T Q
    }
  });
}

}  // namespace course
