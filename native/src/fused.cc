// Fused optimizer update, in place on the parameter and moment buffers.
#include <cmath>
#include "kernels.h"

namespace course {

void adamW(float* __restrict p, float* __restrict m, float* __restrict v, const float* __restrict g,
           size_t n, float lr, float beta1, float beta2, float eps, float weightDecay,
           float biasCorrection1, float biasCorrection2) {
  const float decay = 1.0f - lr * weightDecay;
  for (size_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    const float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    const float update = (mi / biasCorrection1) / (std::sqrt(vi / biasCorrection2) + eps);
    p[i] = p[i] * decay - lr * update;
  }
}

}  // namespace course
