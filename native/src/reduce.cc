// Reductions over the middle axis of x viewed as [pre, red, post]; sums accumulate in double
// like the JS kernels do.
#include <algorithm>
#include <cmath>
#include <vector>
#include "kernels.h"

namespace course {
namespace {

template <class Acc, class F>
void reduceRows(const float* x, float* out, size_t pre, size_t red, Acc init, F f) {
  for (size_t p = 0; p < pre; p++) {
    const float* __restrict xr = x + p * red;
    Acc acc = init;
    for (size_t r = 0; r < red; r++) acc = f(acc, xr[r]);
    out[p] = float(acc);
  }
}

template <class Acc, class F>
void reduceColumns(const float* x, float* out, size_t pre, size_t red, size_t post, Acc init, F f) {
  std::vector<Acc> acc(post);
  for (size_t p = 0; p < pre; p++) {
    std::fill(acc.begin(), acc.end(), init);
    Acc* __restrict a = acc.data();
    for (size_t r = 0; r < red; r++) {
      const float* __restrict xr = x + (p * red + r) * post;
      for (size_t q = 0; q < post; q++) a[q] = f(a[q], xr[q]);
    }
    for (size_t q = 0; q < post; q++) out[p * post + q] = float(a[q]);
  }
}

template <class Acc, class F>
void reduceAny(const float* x, float* out, size_t pre, size_t red, size_t post, Acc init, F f) {
  if (post == 1) reduceRows(x, out, pre, red, init, f);
  else reduceColumns(x, out, pre, red, post, init, f);
}

inline float nanMax(float a, float b) { return a != a ? a : ((b != b || b > a) ? b : a); }
inline float nanMin(float a, float b) { return a != a ? a : ((b != b || b < a) ? b : a); }

}  // namespace

void reduce(ReduceOp op, const float* x, float* out, size_t pre, size_t red, size_t post) {
  switch (op) {
    case kSum:
      return reduceAny(x, out, pre, red, post, 0.0, [](double a, float v) { return a + v; });
    case kMean: {
      const float inv = float(red);
      // tfjs divides each element by the count before summing; do the same.
      return reduceAny(x, out, pre, red, post, 0.0, [inv](double a, float v) { return a + double(v / inv); });
    }
    case kMaxR:
      return reduceAny(x, out, pre, red, post, -INFINITY, [](float a, float v) { return nanMax(a, v); });
    case kMinR:
      return reduceAny(x, out, pre, red, post, INFINITY, [](float a, float v) { return nanMin(a, v); });
    case kProd:
      return reduceAny(x, out, pre, red, post, 1.0, [](double a, float v) { return a * v; });
  }
}

}  // namespace course
