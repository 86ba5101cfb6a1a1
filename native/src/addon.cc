// N-API glue: each exported function takes typed arrays (already allocated by the caller,
// output included) and plain numbers, and runs one kernel from kernels.h synchronously.
#include <node_api.h>
#include <cstring>
#include "kernels.h"
#include "parallel.h"

namespace {

using namespace course;

// Elements a strided view spans: 1 + sum (shape[d] - 1) * stride[d]; 0 when empty. Strides
// must be non-negative (they are: broadcasting uses 0, transposes permute positive ones).
bool spans(int rank, const int32_t* shape, const int32_t* strides, size_t offset, size_t length) {
  size_t last = offset;
  for (int d = 0; d < rank; d++) {
    if (shape[d] < 0 || strides[d] < 0) return false;
    if (shape[d] == 0) return true;
    last += size_t(shape[d] - 1) * size_t(strides[d]);
  }
  return last < length;
}

size_t product(int rank, const int32_t* shape) {
  size_t n = 1;
  for (int d = 0; d < rank; d++) n *= size_t(shape[d] < 0 ? 0 : shape[d]);
  return n;
}

struct Call {
  napi_env env;
  size_t argc = 48;
  napi_value argv[48];
  bool failed = false;

  Call(napi_env e, napi_callback_info info) : env(e) {
    napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  }

  void fail(const char* message) {
    if (!failed) napi_throw_type_error(env, nullptr, message);
    failed = true;
  }

  // Data pointer and length of a typed array argument of the given element type.
  template <class T>
  T* array(size_t i, napi_typedarray_type want, size_t* length = nullptr) {
    napi_typedarray_type type;
    size_t len = 0;
    void* data = nullptr;
    if (i >= argc || napi_get_typedarray_info(env, argv[i], &type, &len, &data, nullptr, nullptr) != napi_ok) {
      fail("course_native: expected a typed array argument");
      return nullptr;
    }
    if (type != want && !(sizeof(T) == 4 && want == napi_uint32_array &&
                          (type == napi_float32_array || type == napi_int32_array || type == napi_uint32_array))) {
      fail("course_native: typed array of the wrong element type");
      return nullptr;
    }
    if (length) *length = len;
    return static_cast<T*>(data);
  }
  float* f32(size_t i, size_t* length = nullptr) { return array<float>(i, napi_float32_array, length); }
  int32_t* i32(size_t i, size_t* length = nullptr) { return array<int32_t>(i, napi_int32_array, length); }
  uint32_t* words(size_t i, size_t* length = nullptr) { return array<uint32_t>(i, napi_uint32_array, length); }

  // A size or index: a non-negative integer (fails otherwise).
  size_t count(size_t i) {
    double v = number(i);
    if (!(v >= 0 && v <= 1099511627776.0 && v == double(size_t(v)))) {
      fail("course_native: expected a non-negative integer");
      return 0;
    }
    return size_t(v);
  }

  // Fails with `message` unless ok; returns ok.
  bool check(bool ok, const char* message) {
    if (!ok) fail(message);
    return ok && !failed;
  }

  double number(size_t i) {
    double v = 0;
    if (i >= argc || napi_get_value_double(env, argv[i], &v) != napi_ok) fail("course_native: expected a number");
    return v;
  }
  bool flag(size_t i) {
    bool v = false;
    if (i >= argc || napi_get_value_bool(env, argv[i], &v) != napi_ok) fail("course_native: expected a boolean");
    return v;
  }

  napi_value undefined() {
    napi_value v;
    napi_get_undefined(env, &v);
    return v;
  }
  napi_value boolean(bool b) {
    napi_value v;
    napi_get_boolean(env, b, &v);
    return v;
  }
  napi_value string(const char* s) {
    napi_value v;
    napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
    return v;
  }
};

// matMul(a, b, out, batch, batchA, batchB, M, N, K, transA, transB)
napi_value MatMul(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t na = 0, nb = 0, no = 0;
  const float* a = c.f32(0, &na);
  const float* b = c.f32(1, &nb);
  float* out = c.f32(2, &no);
  size_t batch = c.count(3), batchA = c.count(4), batchB = c.count(5);
  size_t M = c.count(6), N = c.count(7), K = c.count(8);
  bool transA = c.flag(9), transB = c.flag(10);
  if (c.failed) return nullptr;
  if (!c.check(batchA >= 1 && batchB >= 1 && M < (1u << 31) && N < (1u << 31) && K < (1u << 31) &&
                   na >= batchA * M * K && nb >= batchB * K * N && no >= batch * M * N,
               "course_native.matMul: bad sizes")) return nullptr;
  batchMatMul(a, b, out, int(batch), int(batchA), int(batchB), int(M), int(N), int(K), transA, transB);
  return c.undefined();
}

// binary(op, a, b, out, shape, aStrides, bStrides)
napi_value Binary(napi_env env, napi_callback_info info) {
  Call c(env, info);
  int op = int(c.number(0));
  size_t na = 0, nb = 0, no = 0;
  const float* a = c.f32(1, &na);
  const float* b = c.f32(2, &nb);
  float* out = c.f32(3, &no);
  size_t rank = 0, ra = 0, rb = 0;
  const int32_t* shape = c.i32(4, &rank);
  const int32_t* as = c.i32(5, &ra);
  const int32_t* bs = c.i32(6, &rb);
  if (c.failed) return nullptr;
  if (!c.check(op >= kAdd && op <= kPow && rank <= size_t(kMaxRank) && ra == rank && rb == rank,
               "course_native.binary: bad op or rank")) return nullptr;
  if (!c.check(spans(int(rank), shape, as, 0, na) && spans(int(rank), shape, bs, 0, nb) && no >= product(int(rank), shape),
               "course_native.binary: buffers too small")) return nullptr;
  binary(BinaryOp(op), a, b, out, int(rank), shape, as, bs);
  return c.undefined();
}

// unary(op, x, out)
napi_value Unary(napi_env env, napi_callback_info info) {
  Call c(env, info);
  int op = int(c.number(0));
  size_t n = 0, no = 0;
  const float* x = c.f32(1, &n);
  float* out = c.f32(2, &no);
  if (!c.check(op >= kExp && op <= kSign, "course_native.unary: bad op")) return nullptr;
  unary(UnaryOp(op), x, out, n < no ? n : no);
  return c.undefined();
}

// softmax(x, out, rows, cols)
napi_value Softmax(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t nx = 0, no = 0;
  const float* x = c.f32(0, &nx);
  float* out = c.f32(1, &no);
  size_t rows = c.count(2), cols = c.count(3);
  if (c.failed || !c.check(nx >= rows * cols && no >= rows * cols, "course_native.softmax: buffers too small")) return nullptr;
  softmax(x, out, rows, cols);
  return c.undefined();
}

// reduce(op, x, out, pre, red, post)
napi_value Reduce(napi_env env, napi_callback_info info) {
  Call c(env, info);
  int op = int(c.number(0));
  size_t nx = 0, no = 0;
  const float* x = c.f32(1, &nx);
  float* out = c.f32(2, &no);
  size_t pre = c.count(3), red = c.count(4), post = c.count(5);
  if (c.failed || !c.check(op >= kSum && op <= kProd && nx >= pre * red * post && no >= pre * post,
                           "course_native.reduce: bad op or sizes")) return nullptr;
  reduce(ReduceOp(op), x, out, pre, red, post);
  return c.undefined();
}

// stridedCopy(x, out, shape, strides, offset)
napi_value StridedCopy(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t nx = 0, no = 0;
  const uint32_t* x = c.words(0, &nx);
  uint32_t* out = c.words(1, &no);
  size_t rank = 0, rs = 0;
  const int32_t* shape = c.i32(2, &rank);
  const int32_t* strides = c.i32(3, &rs);
  size_t offset = c.count(4);
  if (c.failed || !c.check(rank <= size_t(kMaxRank) && rs == rank, "course_native.stridedCopy: bad rank")) return nullptr;
  if (!c.check(spans(int(rank), shape, strides, offset, nx) && no >= product(int(rank), shape),
               "course_native.stridedCopy: buffers too small")) return nullptr;
  stridedCopy(x, out, int(rank), shape, strides, offset);
  return c.undefined();
}

// stridedScatter(x, out, shape, outStrides, offset)
napi_value StridedScatter(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t nx = 0, no = 0;
  const uint32_t* x = c.words(0, &nx);
  uint32_t* out = c.words(1, &no);
  size_t rank = 0, rs = 0;
  const int32_t* shape = c.i32(2, &rank);
  const int32_t* strides = c.i32(3, &rs);
  size_t offset = c.count(4);
  if (c.failed || !c.check(rank <= size_t(kMaxRank) && rs == rank, "course_native.stridedScatter: bad rank")) return nullptr;
  if (!c.check(spans(int(rank), shape, strides, offset, no) && nx >= product(int(rank), shape),
               "course_native.stridedScatter: buffers too small")) return nullptr;
  stridedScatter(x, out, int(rank), shape, strides, offset);
  return c.undefined();
}

// copy2d(src, srcOffset, srcStride, dst, dstOffset, dstStride, rows, cols)
napi_value Copy2d(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t ns = 0, nd = 0;
  const uint32_t* src = c.words(0, &ns);
  size_t srcOffset = c.count(1), srcStride = c.count(2);
  uint32_t* dst = c.words(3, &nd);
  size_t dstOffset = c.count(4), dstStride = c.count(5);
  size_t rows = c.count(6), cols = c.count(7);
  if (c.failed) return nullptr;
  if (rows == 0 || cols == 0) return c.undefined();
  if (!c.check(srcOffset + (rows - 1) * srcStride + cols <= ns && dstOffset + (rows - 1) * dstStride + cols <= nd,
               "course_native.copy2d: buffers too small")) return nullptr;
  copy2d(src + srcOffset, srcStride, dst + dstOffset, dstStride, rows, cols);
  return c.undefined();
}

// gather(x, indices, out, outer, axisDim, inner) -> false when an index is out of range
napi_value Gather(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t nx = 0, nIdx = 0, no = 0;
  const uint32_t* x = c.words(0, &nx);
  const int32_t* idx = c.i32(1, &nIdx);
  uint32_t* out = c.words(2, &no);
  size_t outer = c.count(3), axisDim = c.count(4), inner = c.count(5);
  if (c.failed || !c.check(nx >= outer * axisDim * inner && no >= outer * nIdx * inner,
                           "course_native.gather: buffers too small")) return nullptr;
  return c.boolean(gather(x, idx, out, outer, axisDim, inner, nIdx));
}

// segmentSum(x, ids, out, inner, numSegments)
napi_value SegmentSum(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t nx = 0, n = 0, no = 0;
  const float* x = c.f32(0, &nx);
  const int32_t* ids = c.i32(1, &n);
  float* out = c.f32(2, &no);
  size_t inner = c.count(3), numSegments = c.count(4);
  if (c.failed || !c.check(nx >= n * inner && no >= numSegments * inner, "course_native.segmentSum: buffers too small"))
    return nullptr;
  segmentSum(x, ids, out, n, inner, numSegments);
  return c.undefined();
}

// adamW(p, m, v, g, beta1, beta2, eps, decay, stepSize, invSqrtCorrection2, gradScale)
napi_value AdamW(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t n = 0, nm = 0, nv = 0, ng = 0;
  float* p = c.f32(0, &n);
  float* m = c.f32(1, &nm);
  float* v = c.f32(2, &nv);
  const float* g = c.f32(3, &ng);
  float beta1 = float(c.number(4)), beta2 = float(c.number(5)), eps = float(c.number(6));
  float decay = float(c.number(7)), stepSize = float(c.number(8)), invSqrtCorrection2 = float(c.number(9));
  float gradScale = float(c.number(10));
  if (c.failed) return nullptr;
  if (nm != n || nv != n || ng != n) {
    c.fail("course_native.adamW: buffers differ in length");
    return nullptr;
  }
  adamW(p, m, v, g, n, beta1, beta2, eps, decay, stepSize, invSqrtCorrection2, gradScale);
  return c.undefined();
}

// layerNorm(x, gain, y, mean, rstd, rows, cols, eps)
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t nx = 0, ng = 0, ny = 0, nm = 0, nr = 0;
  const float* x = c.f32(0, &nx);
  const float* gain = c.f32(1, &ng);
  float* y = c.f32(2, &ny);
  float* mean = c.f32(3, &nm);
  float* rstd = c.f32(4, &nr);
  size_t rows = c.count(5), cols = c.count(6);
  float eps = float(c.number(7));
  if (c.failed || !c.check(nx >= rows * cols && ny >= rows * cols && ng >= cols && nm >= rows && nr >= rows,
                           "course_native.layerNorm: buffers too small")) return nullptr;
  layerNormForward(x, gain, y, mean, rstd, rows, cols, eps);
  return c.undefined();
}

// layerNormGrad(dy, x, mean, rstd, gain, dx, dgain, rows, cols)
napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t ndy = 0, nx = 0, nm = 0, nr = 0, ng = 0, ndx = 0, ndg = 0;
  const float* dy = c.f32(0, &ndy);
  const float* x = c.f32(1, &nx);
  const float* mean = c.f32(2, &nm);
  const float* rstd = c.f32(3, &nr);
  const float* gain = c.f32(4, &ng);
  float* dx = c.f32(5, &ndx);
  float* dgain = c.f32(6, &ndg);
  size_t rows = c.count(7), cols = c.count(8);
  if (c.failed || !c.check(ndy >= rows * cols && nx >= rows * cols && ndx >= rows * cols && nm >= rows && nr >= rows &&
                               ng >= cols && ndg >= cols,
                           "course_native.layerNormGrad: buffers too small")) return nullptr;
  layerNormBackward(dy, x, mean, rstd, gain, dx, dgain, rows, cols);
  return c.undefined();
}

// gelu(x, y)
napi_value Gelu(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t n = 0, ny = 0;
  const float* x = c.f32(0, &n);
  float* y = c.f32(1, &ny);
  if (c.failed) return nullptr;
  gelu(x, y, n < ny ? n : ny);
  return c.undefined();
}

// geluGrad(dy, x, dx)
napi_value GeluGrad(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t n = 0, nx = 0, nd = 0;
  const float* dy = c.f32(0, &n);
  const float* x = c.f32(1, &nx);
  float* dx = c.f32(2, &nd);
  if (c.failed) return nullptr;
  if (nx < n || nd < n) {
    c.fail("course_native.geluGrad: buffers differ in length");
    return nullptr;
  }
  geluBackward(dy, x, dx, n);
  return c.undefined();
}

// attention(qkv, y, stats, B, T, nHead, C, scale)
// Optional trailing arguments (key, threshold, scale) of a dropout; absent: none.
Dropout dropoutArgs(Call& c, size_t first) {
  Dropout d;
  if (c.argc <= first) return d;
  const size_t key = c.count(first), threshold = c.count(first + 1);
  d.scale = float(c.number(first + 2));
  if (!c.check(key <= 0xffffffffu && threshold <= 0x1000000u, "course_native: bad dropout constants")) return d;
  d.key = uint32_t(key);
  d.threshold = uint32_t(threshold);
  return d;
}

// Fails with `message` unless every targets[r] is in [0, cols).
bool targetsInRange(Call& c, const int32_t* targets, size_t rows, size_t cols, const char* message) {
  for (size_t r = 0; r < rows; r++) {
    if (!c.check(targets[r] >= 0 && size_t(targets[r]) < cols, message)) return false;
  }
  return true;
}

// crossEntropy(logits, targets, lse, rows, cols): the mean loss (targets checked to be in range).
napi_value CrossEntropy(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t nl = 0, nt = 0, ns = 0;
  const float* logits = c.f32(0, &nl);
  const int32_t* targets = c.i32(1, &nt);
  float* lse = c.f32(2, &ns);
  const size_t rows = c.count(3), cols = c.count(4);
  if (c.failed || !c.check(nl >= rows * cols && nt >= rows && ns >= rows && cols > 0, "course_native.crossEntropy: bad sizes")) return nullptr;
  if (!targetsInRange(c, targets, rows, cols, "course_native.crossEntropy: a target is out of range")) return nullptr;
  napi_value v;
  napi_create_double(env, crossEntropy(logits, targets, lse, rows, cols), &v);
  return v;
}

// crossEntropyGrad(logits, targets, lse, dx, rows, cols, scale)
napi_value CrossEntropyGrad(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t nl = 0, nt = 0, ns = 0, nd = 0;
  const float* logits = c.f32(0, &nl);
  const int32_t* targets = c.i32(1, &nt);
  const float* lse = c.f32(2, &ns);
  float* dx = c.f32(3, &nd);
  const size_t rows = c.count(4), cols = c.count(5);
  const float scale = float(c.number(6));
  if (c.failed || !c.check(nl >= rows * cols && nd >= rows * cols && nt >= rows && ns >= rows, "course_native.crossEntropyGrad: bad sizes")) return nullptr;
  if (!targetsInRange(c, targets, rows, cols, "course_native.crossEntropyGrad: a target is out of range")) return nullptr;
  crossEntropyBackward(logits, targets, lse, dx, rows, cols, scale);
  return c.undefined();
}

napi_value SumOfSquares(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t n = 0;
  const float* x = c.f32(0, &n);
  if (c.failed) return nullptr;
  napi_value v;
  napi_create_double(env, sumOfSquares(x, n), &v);
  return v;
}

napi_value Dropout_(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t n = 0, no = 0;
  const float* x = c.f32(0, &n);
  float* out = c.f32(1, &no);
  const Dropout d = dropoutArgs(c, 2);
  if (c.failed) return nullptr;
  if (!c.check(no >= n && c.argc > 2, "course_native.dropout: bad arguments")) return nullptr;
  dropout(x, out, n, d);
  return c.undefined();
}

// The block kernels' arguments: arrays in a fixed order, each at least its size in floats.
struct BlockArgs {
  Call& c;
  size_t next = 0;
  bool ok = true;
  float* take(size_t floats) {
    size_t n = 0;
    float* p = c.f32(next++, &n);
    if (!c.failed && n < floats) ok = c.check(false, "course_native.block: a buffer is too small");
    return p;
  }
};

// Reads B, T, C, nHead, eps, scale and three dropouts (key, threshold, scale) from `at` on.
BlockShape blockShape(Call& c, size_t at) {
  BlockShape d{};
  d.B = int(c.count(at));
  d.T = int(c.count(at + 1));
  d.C = int(c.count(at + 2));
  d.nHead = int(c.count(at + 3));
  d.eps = float(c.number(at + 4));
  d.scale = float(c.number(at + 5));
  for (int k = 0; k < 3; k++) d.drop[k] = dropoutArgs(c, at + 6 + 3 * k);
  if (!c.failed && (d.nHead <= 0 || d.C % d.nHead != 0)) c.fail("course_native.block: C must be a multiple of nHead");
  return d;
}

// The six weights, or their gradients (the same sizes, in the same order).
template <class Six>
Six blockWeights(BlockArgs& a, size_t C) {
  Six w;
  w.ln1 = a.take(C);
  w.attn = a.take(3 * C * C);
  w.proj = a.take(C * C);
  w.ln2 = a.take(C);
  w.fc = a.take(4 * C * C);
  w.fc2 = a.take(4 * C * C);
  return w;
}

BlockSaved blockSaved(BlockArgs& a, const BlockShape& d) {
  const size_t R = size_t(d.B) * d.T, C = size_t(d.C);
  BlockSaved s;
  s.h1 = a.take(R * C);
  s.mean1 = a.take(R);
  s.rstd1 = a.take(R);
  s.qkv = a.take(R * 3 * C);
  s.stats = a.take(size_t(d.B) * d.nHead * d.T * 2);
  s.a = a.take(R * C);
  s.xm = a.take(R * C);
  s.h2 = a.take(R * C);
  s.mean2 = a.take(R);
  s.rstd2 = a.take(R);
  s.f = a.take(R * 4 * C);
  s.g = a.take(R * 4 * C);
  return s;
}

// block(x, y, ln1, attn, proj, ln2, fc, fc2, h1, mean1, rstd1, qkv, stats, a, xm, h2, mean2, rstd2,
//       f, g, B, T, C, nHead, eps, scale, (key, threshold, scale) x 3)
napi_value Block(napi_env env, napi_callback_info info) {
  Call c(env, info);
  const BlockShape d = blockShape(c, 20);
  if (c.failed) return nullptr;
  const size_t R = size_t(d.B) * d.T, C = size_t(d.C);
  BlockArgs a{c};
  const float* x = a.take(R * C);
  float* y = a.take(R * C);
  const BlockWeights w = blockWeights<BlockWeights>(a, C);
  const BlockSaved s = blockSaved(a, d);
  if (c.failed || !a.ok) return nullptr;
  blockForward(x, y, w, s, d);
  return c.undefined();
}

// blockGrad(dy, x, ln1, attn, proj, ln2, fc, fc2, h1 ... g (as block), dx, dln1, dattn, dproj, dln2,
//           dfc, dfc2, c1, c2, w1, w2, B, T, C, nHead, eps, scale, (key, threshold, scale) x 3)
napi_value BlockGrad(napi_env env, napi_callback_info info) {
  Call c(env, info);
  const BlockShape d = blockShape(c, 31);
  if (c.failed) return nullptr;
  const size_t R = size_t(d.B) * d.T, C = size_t(d.C);
  BlockArgs a{c};
  const float* dy = a.take(R * C);
  const float* x = a.take(R * C);
  const BlockWeights w = blockWeights<BlockWeights>(a, C);
  const BlockSaved s = blockSaved(a, d);
  float* dx = a.take(R * C);
  const BlockGrads g = blockWeights<BlockGrads>(a, C);
  BlockScratch t;
  t.c1 = a.take(R * C);
  t.c2 = a.take(R * C);
  t.w1 = a.take(R * 4 * C);
  t.w2 = a.take(R * 4 * C);
  if (c.failed || !a.ok) return nullptr;
  blockBackward(dy, x, w, s, d, dx, g, t);
  return c.undefined();
}

napi_value Attention(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t nqkv = 0, ny = 0, np = 0;
  const float* qkv = c.f32(0, &nqkv);
  float* y = c.f32(1, &ny);
  float* stats = c.f32(2, &np);
  int B = int(c.count(3)), T = int(c.count(4)), nHead = int(c.count(5)), C = int(c.count(6));
  float scale = float(c.number(7));
  const Dropout drop = dropoutArgs(c, 8);
  if (c.failed) return nullptr;
  if (nHead <= 0 || C % nHead != 0 || nqkv < size_t(B) * T * 3 * C || ny < size_t(B) * T * C ||
      np < size_t(B) * nHead * T * 2) {
    c.fail("course_native.attention: bad sizes");
    return nullptr;
  }
  causalAttentionForward(qkv, y, stats, B, T, nHead, C, scale, drop);
  return c.undefined();
}

// attentionGrad(dy, qkv, stats, dqkv, B, T, nHead, C, scale)
napi_value AttentionGrad(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t ndy = 0, nqkv = 0, np = 0, nd = 0;
  const float* dy = c.f32(0, &ndy);
  const float* qkv = c.f32(1, &nqkv);
  const float* stats = c.f32(2, &np);
  float* dqkv = c.f32(3, &nd);
  int B = int(c.count(4)), T = int(c.count(5)), nHead = int(c.count(6)), C = int(c.count(7));
  float scale = float(c.number(8));
  const Dropout drop = dropoutArgs(c, 9);
  if (c.failed) return nullptr;
  if (nHead <= 0 || C % nHead != 0 || nqkv < size_t(B) * T * 3 * C || nd < size_t(B) * T * 3 * C ||
      ndy < size_t(B) * T * C || np < size_t(B) * nHead * T * 2) {
    c.fail("course_native.attentionGrad: bad sizes");
    return nullptr;
  }
  causalAttentionBackward(dy, qkv, stats, dqkv, B, T, nHead, C, scale, drop);
  return c.undefined();
}

napi_value BlasName(napi_env env, napi_callback_info info) {
  Call c(env, info);
  return c.string(blasName());
}

// useOpenBlas(enable) -> whether OpenBLAS is in use afterwards
napi_value UseOpenBlas(napi_env env, napi_callback_info info) {
  Call c(env, info);
  bool enable = c.flag(0);
  if (c.failed) return nullptr;
  return c.boolean(blasUseOpenBlas(enable));
}

// setThreads(n): the kernels' thread pool gets n threads and OpenBLAS one per pool thread (they never run at
// the same time: every kernel returns before the next one starts).
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Call c(env, info);
  size_t n = c.count(0);
  if (c.failed || !c.check(n >= 1 && n <= 1024, "course_native.setThreads: expected 1 to 1024 threads")) return nullptr;
  setThreads(int(n));
  blasSetThreads(1);  // matMul splits its work on the pool; each piece runs OpenBLAS on one thread
  return c.undefined();
}

napi_value Threads(napi_env env, napi_callback_info info) {
  Call c(env, info);
  napi_value v;
  napi_create_int32(env, threads(), &v);
  return v;
}

napi_value Init(napi_env env, napi_value exports) {
  struct Entry {
    const char* name;
    napi_callback fn;
  };
  const Entry entries[] = {
      {"matMul", MatMul},         {"binary", Binary},   {"unary", Unary},
      {"softmax", Softmax},       {"reduce", Reduce},   {"stridedCopy", StridedCopy},
      {"copy2d", Copy2d},         {"stridedScatter", StridedScatter},         {"gather", Gather},   {"segmentSum", SegmentSum},
      {"adamW", AdamW},           {"layerNorm", LayerNorm}, {"layerNormGrad", LayerNormGrad},
      {"gelu", Gelu},             {"geluGrad", GeluGrad},     {"dropout", Dropout_}, {"sumOfSquares", SumOfSquares}, {"block", Block}, {"blockGrad", BlockGrad},
      {"crossEntropy", CrossEntropy}, {"crossEntropyGrad", CrossEntropyGrad},
      {"attention", Attention},   {"attentionGrad", AttentionGrad},           {"blasName", BlasName}, {"useOpenBlas", UseOpenBlas},
      {"setThreads", SetThreads}, {"threads", Threads},
  };
  for (const Entry& e : entries) {
    napi_value fn;
    napi_create_function(env, e.name, NAPI_AUTO_LENGTH, e.fn, nullptr, &fn);
    napi_set_named_property(env, exports, e.name, fn);
  }
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
