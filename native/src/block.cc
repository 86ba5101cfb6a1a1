// A whole pre-LN transformer block (nanoGPT's Block without biases, exact GELU) as one forward
// and one backward kernel, built from the kernels in the other files:
//
//   h1 = LN(x; g1)        qkv = h1 Wattn^T      a = attention(qkv)     xm = x + drop(a Wproj^T)
//   h2 = LN(xm; g2)       f = h2 Wfc^T          g = gelu(f)            y = xm + drop(g Wfc2^T)
//
// Weights are PyTorch's (out, in). A training step of small models spends as much time in the
// engine's bookkeeping around some twenty ops a block as in their arithmetic; one op a block
// leaves only the arithmetic.
#include <algorithm>
#include "kernels.h"
#include "parallel.h"

namespace course {
namespace {

constexpr size_t kGrain = 1 << 14;

// out = a + b (out may be a or b).
void add(const float* a, const float* b, float* out, size_t n) {
  parallelFor(n, kGrain, [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; i++) out[i] = a[i] + b[i];
  });
}

// out = base + drop(x), element i drawn as seededDropout draws it (out may be x or base).
void addDropped(const float* base, const float* x, float* out, size_t n, const Dropout& drop) {
  if (!drop.on()) return add(base, x, out, n);
  parallelFor(n, kGrain, [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; i++) out[i] = base[i] + drop.apply(x[i], i);
  });
}

// The gradient through a dropout: dy itself when there is none, else drop(dy) written to `out`.
const float* dropped(const float* dy, float* out, size_t n, const Dropout& drop) {
  if (!drop.on()) return dy;
  dropout(dy, out, n, drop);
  return out;
}

// y (rows, out) = x (rows, in) W^T, W (out, in).
void linear(const float* x, const float* w, float* y, int rows, int in, int out) {
  batchMatMul(x, w, y, 1, 1, 1, rows, out, in, false, true);
}

// dW (out, in) = dy^T x, and dx (rows, in) = dy W.
void linearBackward(const float* dy, const float* x, const float* w, float* dw, float* dx, int rows, int in, int out) {
  batchMatMul(dy, x, dw, 1, 1, 1, out, in, rows, true, false);
  batchMatMul(dy, w, dx, 1, 1, 1, rows, in, out, false, false);
}

}  // namespace

void blockForward(const float* x, float* y, const BlockWeights& w, const BlockSaved& s, const BlockShape& d) {
  const int R = d.B * d.T, C = d.C;
  const size_t n = size_t(R) * C;
  layerNormForward(x, w.ln1, s.h1, s.mean1, s.rstd1, R, C, d.eps);
  linear(s.h1, w.attn, s.qkv, R, C, 3 * C);
  causalAttentionForward(s.qkv, s.a, s.stats, d.B, d.T, d.nHead, C, d.scale, d.drop[0]);
  linear(s.a, w.proj, s.xm, R, C, C);
  addDropped(x, s.xm, s.xm, n, d.drop[1]);
  layerNormForward(s.xm, w.ln2, s.h2, s.mean2, s.rstd2, R, C, d.eps);
  linear(s.h2, w.fc, s.f, R, C, 4 * C);
  gelu(s.f, s.g, size_t(R) * 4 * C);
  linear(s.g, w.fc2, y, R, 4 * C, C);
  addDropped(s.xm, y, y, n, d.drop[2]);
}

void blockBackward(const float* dy, const float* x, const BlockWeights& w, const BlockSaved& s, const BlockShape& d,
                   float* dx, const BlockGrads& gr, const BlockScratch& t) {
  const int R = d.B * d.T, C = d.C;
  const size_t n = size_t(R) * C;
  // MLP: y = xm + drop(g Wfc2^T)
  const float* dOut = dropped(dy, t.c1, n, d.drop[2]);
  linearBackward(dOut, s.g, w.fc2, gr.fc2, t.w1, R, 4 * C, C);
  geluBackward(t.w1, s.f, t.w2, size_t(R) * 4 * C);
  linearBackward(t.w2, s.h2, w.fc, gr.fc, t.c1, R, C, 4 * C);
  layerNormBackward(t.c1, s.xm, s.mean2, s.rstd2, w.ln2, t.c2, gr.ln2, R, C);
  add(dy, t.c2, dx, n);  // dL/dxm, through the residual and through ln_2
  // Attention: xm = x + drop(a Wproj^T)
  const float* dProj = dropped(dx, t.c1, n, d.drop[1]);
  linearBackward(dProj, s.a, w.proj, gr.proj, t.c2, R, C, C);
  causalAttentionBackward(t.c2, s.qkv, s.stats, t.w1, d.B, d.T, d.nHead, C, d.scale, d.drop[0]);
  linearBackward(t.w1, s.h1, w.attn, gr.attn, t.c1, R, C, 3 * C);
  layerNormBackward(t.c1, x, s.mean1, s.rstd1, w.ln1, t.c2, gr.ln1, R, C);
  add(dx, t.c2, dx, n);
}

}  // namespace course
