// Plain C++ kernels on contiguous float32 (and 4-byte int32) buffers. The N-API glue in
// addon.cc unwraps typed arrays and calls these; all shape logic beyond a few integers
// lives in TypeScript (lib/native).
#pragma once
#include <cstdint>
#include <cstddef>
#include "random.h"

namespace course {

constexpr int kMaxRank = 8;

// ---- blas.cc ----
// "openblas" when libopenblas was found at run time, else "builtin".
const char* blasName();
bool blasUseOpenBlas(bool enable);  // returns whether OpenBLAS is now in use
// OpenBLAS's own threads; setThreads keeps them at 1 (matMul splits its work on the pool, and the
// attention kernels call sgemm from the pool's threads).
void blasSetThreads(int n);
// out[b] = op(A[b % batchA]) x op(B[b % batchB]) for b < batch; A is M x K (K x M if
// transA), B is K x N (N x K if transB), row-major.
void batchMatMul(const float* a, const float* b, float* out, int batch, int batchA, int batchB,
                 int M, int N, int K, bool transA, bool transB);

// C = alpha * op(A) op(B) (beta 0) on row-major views with leading dimensions lda/ldb/ldc.
void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float* C, int ldc);

// ---- elementwise.cc ----
enum BinaryOp { kAdd, kSub, kMul, kDiv, kMax, kMin, kSquaredDiff, kPow };
// out = a op b, with a/b strides per output dim (0 where broadcast).
void binary(BinaryOp op, const float* a, const float* b, float* out, int rank, const int* shape,
            const int* aStrides, const int* bStrides);
enum UnaryOp { kExp, kLog, kSqrt, kRsqrt, kTanh, kNeg, kSquare, kAbs, kRelu, kSigmoid,
               kReciprocal, kErf, kLog1p, kExpm1, kSoftplus, kStep, kSin, kCos, kSign };
void unary(UnaryOp op, const float* x, float* out, size_t n);
void softmax(const float* x, float* out, size_t rows, size_t cols);

// ---- reduce.cc ----
enum ReduceOp { kSum, kMean, kMaxR, kMinR, kProd };
// x viewed as [pre, red, post]; out is [pre, post].
void reduce(ReduceOp op, const float* x, float* out, size_t pre, size_t red, size_t post);
// Σ x[i]² in double (fixed blocks, added in order: the same for any number of threads).
double sumOfSquares(const float* x, size_t n);

// ---- layout.cc (dtype-agnostic: moves 4-byte elements) ----
// out[i] = x[offset + sum_d idx_d * strides[d]] for the output index idx over shape.
void stridedCopy(const uint32_t* x, uint32_t* out, int rank, const int* shape, const int* strides,
                 size_t offset);
// out[offset + sum_d idx_d * outStrides[d]] = x[i] for the input index idx of i over shape.
void stridedScatter(const uint32_t* x, uint32_t* out, int rank, const int* shape,
                    const int* outStrides, size_t offset);
// Copy a rows x cols block between row-major buffers with the given row strides.
void copy2d(const uint32_t* src, size_t srcStride, uint32_t* dst, size_t dstStride, size_t rows,
            size_t cols);
// x is [outer, axisDim, inner]; out is [outer, nIdx, inner]. Returns false on a bad index.
bool gather(const uint32_t* x, const int32_t* idx, uint32_t* out, size_t outer, size_t axisDim,
            size_t inner, size_t nIdx);
// out[numSegments, inner] = sum of rows of x[n, inner] by ids (ids out of range are dropped).
void segmentSum(const float* x, const int32_t* ids, float* out, size_t n, size_t inner,
                size_t numSegments);

// ---- fused.cc ----
// In-place AdamW as torch.optim.AdamW computes it: m, v updated with gradScale * g, then
// p = p * decay - stepSize * m / (sqrt(v) * invSqrtCorrection2 + eps).
void adamW(float* p, float* m, float* v, const float* g, size_t n, float beta1, float beta2,
           float eps, float decay, float stepSize, float invSqrtCorrection2, float gradScale);
// LayerNorm over rows of x[rows, cols] with a gain (no bias); also returns each row's mean
// and 1/sqrt(var + eps) for the backward pass.
void layerNormForward(const float* x, const float* gain, float* y, float* mean, float* rstd,
                      size_t rows, size_t cols, float eps);
void layerNormBackward(const float* dy, const float* x, const float* mean, const float* rstd,
                       const float* gain, float* dx, float* dgain, size_t rows, size_t cols);
// Exact GELU x * Phi(x), with tfjs's erf approximation; and its gradient.
void gelu(const float* x, float* y, size_t n);
// Mean cross-entropy of logits (rows, cols) against targets (each in [0, cols)); lse receives each
// row's log-sum-exp. The backward pass writes dx = (softmax(logits) - onehot(target)) * scale.
double crossEntropy(const float* logits, const int32_t* targets, float* lse, size_t rows, size_t cols);
void crossEntropyBackward(const float* logits, const int32_t* targets, const float* lse, float* dx, size_t rows,
                          size_t cols, float scale);
// out = x * drop.factor(i) for i < n (seededDropout's cpu kernel).
void dropout(const float* x, float* out, size_t n, const Dropout& drop);
void geluBackward(const float* dy, const float* x, float* dx, size_t n);

// ---- attention.cc ----
// Causal self-attention straight from the fused projection qkv[B*T, 3C] (q | k | v, heads of
// size C / nHead side by side) to y[B*T, C], keeping each attention row's max and 1 / sum,
// stats[B*nHead, T, 2], from which the backward pass (writing dqkv[B*T, 3C]) recomputes the weights.
// With drop.on(), the weights (B * nHead, T, T), row-major, get inverted dropout, element
// (task * T + i) * T + j drawn as seededDropout draws it.
void causalAttentionForward(const float* qkv, float* y, float* stats, int B, int T, int nHead, int C,
                            float scale, const Dropout& drop = Dropout());
void causalAttentionBackward(const float* dy, const float* qkv, const float* stats, float* dqkv, int B,
                             int T, int nHead, int C, float scale, const Dropout& drop = Dropout());

// ---- block.cc ----
// A pre-LN transformer block without biases (nanoGPT's Block, exact GELU) in one forward and one
// backward kernel; rows R = B * T. Weights PyTorch's (out, in): attn (3C, C), proj (C, C),
// fc (4C, C), fc2 (C, 4C); ln1, ln2 (C).
struct BlockShape {
  int B, T, C, nHead;
  float eps, scale;
  Dropout drop[3];  // the attention weights', after attn.c_proj, after mlp.c_proj
};
struct BlockWeights {
  const float *ln1, *attn, *proj, *ln2, *fc, *fc2;
};
// What the forward pass keeps for the backward pass: h1, a, xm, h2 (R, C); qkv (R, 3C); f, g
// (R, 4C); mean1, rstd1, mean2, rstd2 (R); stats (B * nHead, T, 2).
struct BlockSaved {
  float *h1, *mean1, *rstd1, *qkv, *stats, *a, *xm, *h2, *mean2, *rstd2, *f, *g;
};
struct BlockGrads {
  float *ln1, *attn, *proj, *ln2, *fc, *fc2;
};
// Work space of the backward pass: c1, c2 (R, C); w1, w2 (R, 4C).
struct BlockScratch {
  float *c1, *c2, *w1, *w2;
};
void blockForward(const float* x, float* y, const BlockWeights& w, const BlockSaved& s, const BlockShape& d);
void blockBackward(const float* dy, const float* x, const BlockWeights& w, const BlockSaved& s, const BlockShape& d,
                   float* dx, const BlockGrads& grads, const BlockScratch& scratch);

}  // namespace course
