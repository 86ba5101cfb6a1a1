// Matrix multiply: OpenBLAS's cblas_sgemm when libopenblas.so.0 can be loaded at run time
// (no link-time dependency, so the addon builds without BLAS headers), else a cache-blocked
// C++ loop that the compiler vectorizes.
#include <dlfcn.h>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <vector>
#include "kernels.h"
#include "parallel.h"

namespace course {
namespace {

enum { kRowMajor = 101, kNoTrans = 111, kTrans = 112 };
using SgemmFn = void (*)(int order, int transA, int transB, int M, int N, int K, float alpha,
                         const float* A, int lda, const float* B, int ldb, float beta, float* C,
                         int ldc);
using SgemvFn = void (*)(int order, int trans, int M, int N, float alpha, const float* A, int lda,
                        const float* x, int incx, float beta, float* y, int incy);
using SetThreadsFn = void (*)(int);

struct OpenBlas {
  SgemmFn sgemm = nullptr;
  SgemvFn sgemv = nullptr;
  SetThreadsFn setThreads = nullptr;
  OpenBlas() {
    // OpenBLAS's idle threads spin for 2^28 cycles (~0.1 s) after each call before they sleep,
    // taking the cores that the kernels' own pool needs between two matmuls. 2^4 makes them sleep
    // at once. It is read when the library loads; set only for that, so child processes (a
    // PyTorch reference run) do not inherit it, and never over the user's own setting.
    const bool setTimeout = getenv("OPENBLAS_THREAD_TIMEOUT") == nullptr;
    if (setTimeout) setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
    load();
    if (setTimeout) unsetenv("OPENBLAS_THREAD_TIMEOUT");
  }

  void load() {
    const char* names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0"};
    for (const char* name : names) {
      void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (!lib) continue;
      sgemm = reinterpret_cast<SgemmFn>(dlsym(lib, "cblas_sgemm"));
      sgemv = reinterpret_cast<SgemvFn>(dlsym(lib, "cblas_sgemv"));
      setThreads = reinterpret_cast<SetThreadsFn>(dlsym(lib, "openblas_set_num_threads"));
      if (sgemm) return;
      dlclose(lib);
    }
  }
};

OpenBlas& openBlas() {
  static OpenBlas instance;
  return instance;
}

bool useOpenBlas = true;

// C[M,N] = A[M,K] * B[K,N], all row-major and contiguous.
void builtinGemm(const float* A, const float* B, float* C, int M, int N, int K) {
  std::fill(C, C + size_t(M) * N, 0.0f);
  const int kBlockK = 128, kBlockN = 512;
  for (int k0 = 0; k0 < K; k0 += kBlockK) {
    int k1 = std::min(K, k0 + kBlockK);
    for (int j0 = 0; j0 < N; j0 += kBlockN) {
      int j1 = std::min(N, j0 + kBlockN);
      for (int i = 0; i < M; i++) {
        float* __restrict c = C + size_t(i) * N;
        const float* a = A + size_t(i) * K;
        int k = k0;
        for (; k + 4 <= k1; k += 4) {
          const float a0 = a[k], a1 = a[k + 1], a2 = a[k + 2], a3 = a[k + 3];
          const float* __restrict b0 = B + size_t(k) * N;
          const float* __restrict b1 = b0 + N;
          const float* __restrict b2 = b1 + N;
          const float* __restrict b3 = b2 + N;
          for (int j = j0; j < j1; j++) c[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
        }
        for (; k < k1; k++) {
          const float ak = a[k];
          const float* __restrict bk = B + size_t(k) * N;
          for (int j = j0; j < j1; j++) c[j] += ak * bk[j];
        }
      }
    }
  }
}

void transposeInto(const float* src, float* dst, int rows, int cols) {
  const int kTile = 32;
  for (int i0 = 0; i0 < rows; i0 += kTile)
    for (int j0 = 0; j0 < cols; j0 += kTile)
      for (int i = i0; i < std::min(rows, i0 + kTile); i++)
        for (int j = j0; j < std::min(cols, j0 + kTile); j++) dst[size_t(j) * rows + i] = src[size_t(i) * cols + j];
}

void builtinMatMul(const float* a, const float* b, float* out, int M, int N, int K, bool transA,
                   bool transB, std::vector<float>& scratchA, std::vector<float>& scratchB) {
  if (transA) {
    scratchA.resize(size_t(M) * K);
    transposeInto(a, scratchA.data(), K, M);
    a = scratchA.data();
  }
  if (transB) {
    scratchB.resize(size_t(K) * N);
    transposeInto(b, scratchB.data(), N, K);
    b = scratchB.data();
  }
  builtinGemm(a, b, out, M, N, K);
}

// C = alpha * op(A) op(B) with leading dimensions, for strided views (attention heads).
void builtinGemmStrided(bool transA, bool transB, int M, int N, int K, float alpha, const float* A,
                        int lda, const float* B, int ldb, float* C, int ldc) {
  std::vector<float> a(size_t(M) * K), b(size_t(K) * N), c(size_t(M) * N);
  for (int i = 0; i < M; i++)
    for (int k = 0; k < K; k++) a[size_t(i) * K + k] = alpha * (transA ? A[size_t(k) * lda + i] : A[size_t(i) * lda + k]);
  for (int k = 0; k < K; k++)
    for (int j = 0; j < N; j++) b[size_t(k) * N + j] = transB ? B[size_t(j) * ldb + k] : B[size_t(k) * ldb + j];
  builtinGemm(a.data(), b.data(), c.data(), M, N, K);
  for (int i = 0; i < M; i++) std::memcpy(C + size_t(i) * ldc, c.data() + size_t(i) * N, sizeof(float) * N);
}

}  // namespace

void gemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
          const float* B, int ldb, float* C, int ldc) {
  SgemmFn sgemm = useOpenBlas ? openBlas().sgemm : nullptr;
  if (sgemm) {
    sgemm(kRowMajor, transA ? kTrans : kNoTrans, transB ? kTrans : kNoTrans, M, N, K, alpha, A, lda, B, ldb,
          0.0f, C, ldc);
  } else {
    builtinGemmStrided(transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc);
  }
}

const char* blasName() { return useOpenBlas && openBlas().sgemm ? "openblas" : "builtin"; }

bool blasUseOpenBlas(bool enable) {
  useOpenBlas = enable;
  return useOpenBlas && openBlas().sgemm;
}

void blasSetThreads(int n) {
  if (openBlas().setThreads) openBlas().setThreads(n < 1 ? 1 : n);
}

namespace {

// C's rows or columns per piece are multiples of this (OpenBLAS's SkylakeX tiles are 16 wide).
constexpr int kAlign = 16;
// Products smaller than this many multiply-adds run as one call: waking the pool costs more.
constexpr double kSplitWork = 1 << 20;

// One matmul of the batch, restricted to C's rows [r0, r1) or (byColumns) columns [r0, r1).
void matMulPiece(SgemmFn sgemm, SgemvFn sgemv, const float* a, const float* b, float* c, int M, int N, int K,
                 bool transA, bool transB, bool byColumns, int r0, int r1) {
  const int lda = transA ? M : K, ldb = transB ? K : N;
  if (byColumns) {
    const float* bj = transB ? b + size_t(r0) * K : b + r0;
    if (M == 1 && sgemv) {
      if (transB) sgemv(kRowMajor, kNoTrans, r1 - r0, K, 1.0f, bj, K, a, 1, 0.0f, c + r0, 1);
      else sgemv(kRowMajor, kTrans, K, r1 - r0, 1.0f, bj, N, a, 1, 0.0f, c + r0, 1);
      return;
    }
    sgemm(kRowMajor, transA ? kTrans : kNoTrans, transB ? kTrans : kNoTrans, M, r1 - r0, K, 1.0f, a, lda, bj, ldb,
          0.0f, c + r0, N);
  } else {
    const float* ai = transA ? a + r0 : a + size_t(r0) * K;
    sgemm(kRowMajor, transA ? kTrans : kNoTrans, transB ? kTrans : kNoTrans, r1 - r0, N, K, 1.0f, ai, lda, b, ldb,
          0.0f, c + size_t(r0) * N, N);
  }
}

}  // namespace

void batchMatMul(const float* a, const float* b, float* out, int batch, int batchA, int batchB,
                 int M, int N, int K, bool transA, bool transB) {
  const size_t aSize = size_t(M) * K, bSize = size_t(K) * N, outSize = size_t(M) * N;
  if (K == 0) {
    std::fill(out, out + outSize * batch, 0.0f);
    return;
  }
  SgemmFn sgemm = useOpenBlas ? openBlas().sgemm : nullptr;
  SgemvFn sgemv = sgemm ? openBlas().sgemv : nullptr;
  // One big GEMM when B is shared and A's batches are contiguous rows (x @ W for x [B,T,C]).
  if (batchB == 1 && batchA == batch && !transA && batch > 1) {
    M *= batch;
    batch = batchA = 1;
  }
  // On the pool: OpenBLAS runs single-threaded inside each piece (blasSetThreads keeps it at one
  // thread), the pieces cut C into row or column slabs, so each C element is computed by one
  // call with the same K order as unsplit: the result does not depend on the thread count.
  if (sgemm && threads() > 1 && double(batch) * M * N * K >= kSplitWork) {
    const bool byColumns = N > M;
    const int extent = byColumns ? N : M;
    const int wanted = std::max(1, (threads() + batch - 1) / batch);
    const int pieces = std::max(1, std::min(wanted, extent / kAlign));
    const int step = (extent / pieces + kAlign - 1) / kAlign * kAlign;
    const int perBatch = (extent + step - 1) / step;
    parallelFor(size_t(batch) * perBatch, 1, [&](size_t t0, size_t t1) {
      for (size_t t = t0; t < t1; t++) {
        const int i = int(t / perBatch), r0 = int(t % perBatch) * step, r1 = std::min(extent, r0 + step);
        matMulPiece(sgemm, sgemv, a + (i % batchA) * aSize, b + (i % batchB) * bSize, out + i * outSize, M, N, K,
                    transA, transB, byColumns, r0, r1);
      }
    });
    return;
  }
  std::vector<float> scratchA, scratchB;
  for (int i = 0; i < batch; i++) {
    const float* ai = a + (i % batchA) * aSize;
    const float* bi = b + (i % batchB) * bSize;
    float* oi = out + i * outSize;
    if (sgemv && M == 1 && N > 0) {
      // One row (sampling one token at a time): sgemm would first pack all of B, which takes
      // about three times as long as the matrix-vector product itself. A's row is contiguous
      // whether or not it is transposed.
      if (transB) sgemv(kRowMajor, kNoTrans, N, K, 1.0f, bi, K, ai, 1, 0.0f, oi, 1);
      else sgemv(kRowMajor, kTrans, K, N, 1.0f, bi, N, ai, 1, 0.0f, oi, 1);
    } else if (sgemm) {
      sgemm(kRowMajor, transA ? kTrans : kNoTrans, transB ? kTrans : kNoTrans, M, N, K, 1.0f, ai,
            transA ? M : K, bi, transB ? K : N, 0.0f, oi, N);
    } else {
      builtinMatMul(ai, bi, oi, M, N, K, transA, transB, scratchA, scratchB);
    }
  }
}

}  // namespace course
