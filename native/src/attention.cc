// Fused causal self-attention: per (batch, head), scores = scale * q k^T, a causal softmax,
// y = probs v; the heads are read from and written to their columns of the [B*T, 3C] and
// [B*T, C] matrices through leading dimensions, so no transposes are needed.
#include <cmath>
#include <vector>
#include "fastmath.h"
#include "kernels.h"

namespace course {

void causalAttentionForward(const float* qkv, float* y, float* probs, int B, int T, int nHead, int C,
                            float scale) {
  const int hs = C / nHead, ld = 3 * C;
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < nHead; h++) {
      const float* q = qkv + size_t(b) * T * ld + h * hs;
      const float* k = q + C;
      const float* v = q + 2 * C;
      float* p = probs + (size_t(b) * nHead + h) * T * T;
      gemm(false, true, T, T, hs, scale, q, ld, k, ld, p, T);
      for (int i = 0; i < T; i++) {
        float* row = p + size_t(i) * T;
        float m = -INFINITY;
        for (int j = 0; j <= i; j++) m = row[j] > m ? row[j] : m;
        double sum = 0;
        for (int j = 0; j <= i; j++) {
          row[j] = fastExp(row[j] - m);
          sum += row[j];
        }
        const float inv = float(1.0 / sum);
        for (int j = 0; j <= i; j++) row[j] *= inv;
        for (int j = i + 1; j < T; j++) row[j] = 0.0f;
      }
      gemm(false, false, T, hs, T, 1.0f, p, T, v, ld, y + size_t(b) * T * C + h * hs, C);
    }
  }
}

void causalAttentionBackward(const float* dy, const float* qkv, const float* probs, float* dqkv, int B,
                             int T, int nHead, int C, float scale) {
  const int hs = C / nHead, ld = 3 * C;
  std::vector<float> dp(size_t(T) * T);
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < nHead; h++) {
      const size_t rowOffset = size_t(b) * T * ld + h * hs;
      const float* q = qkv + rowOffset;
      const float* k = q + C;
      const float* v = q + 2 * C;
      const float* p = probs + (size_t(b) * nHead + h) * T * T;
      const float* g = dy + size_t(b) * T * C + h * hs;
      float* dq = dqkv + rowOffset;
      float* dk = dq + C;
      float* dv = dq + 2 * C;
      gemm(false, true, T, T, hs, 1.0f, g, C, v, ld, dp.data(), T);  // dP = dY V^T
      gemm(true, false, T, hs, T, 1.0f, p, T, g, C, dv, ld);         // dV = P^T dY
      // softmax backward, in place in dp: dS = P (dP - rowsum(dP P)) * scale
      for (int i = 0; i < T; i++) {
        const float* pr = p + size_t(i) * T;
        float* dr = dp.data() + size_t(i) * T;
        double dot = 0;
        for (int j = 0; j <= i; j++) dot += double(dr[j]) * pr[j];
        const float d = float(dot);
        for (int j = 0; j <= i; j++) dr[j] = pr[j] * (dr[j] - d) * scale;
        for (int j = i + 1; j < T; j++) dr[j] = 0.0f;
      }
      gemm(false, false, T, hs, T, 1.0f, dp.data(), T, k, ld, dq, ld);  // dQ = dS K
      gemm(true, false, T, hs, T, 1.0f, dp.data(), T, q, ld, dk, ld);   // dK = dS^T Q
    }
  }
}

}  // namespace course
