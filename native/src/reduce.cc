// Reductions over the middle axis of x viewed as [pre, red, post]; sums accumulate in double
// like the JS kernels do (in 16 interleaved lanes along a contiguous axis). A long reduced axis is cut into fixed blocks of kBlock: each block is
// reduced on its own (in parallel), then the blocks' results are combined in order, so the
// result is the same for any number of threads.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>
#include "fastmath.h"
#include "kernels.h"
#include "parallel.h"

namespace course {
namespace {

constexpr size_t kBlock = 4096;       // reduced elements per block
constexpr size_t kColumns = 256;      // output columns per task when post > 1
constexpr size_t kGrain = 1 << 15;    // input elements per chunk

// Sums of a contiguous run in interleaved lanes (fastmath.h), which vectorize; a serial
// accumulator is one long chain of dependent adds.
struct LaneSum {
  double operator()(const float* x, size_t n) const {
    return laneSum<double>(n, [x](size_t j) { return double(x[j]); });
  }
};
struct LaneMean {
  float count;
  double operator()(const float* x, size_t n) const {
    const float c = count;
    return laneSum<double>(n, [x, c](size_t j) { return double(x[j] / c); });
  }
};
struct Serial {};  // max, min and prod reduce one element after another

// Reduces x[p, r0:r1, q0:q1] into acc[q0:q1] (initialised by the caller).
template <class Acc, class Step, class Run>
void reduceBlock(const float* x, Acc* acc, size_t p, size_t red, size_t post, size_t r0, size_t r1, size_t q0,
                 size_t q1, Step step, Run run) {
  if (post == 1) {
    const float* __restrict xr = x + p * red;
    if constexpr (std::is_same_v<Run, Serial>) {
      Acc a = acc[0];
      for (size_t r = r0; r < r1; r++) a = step(a, xr[r]);
      acc[0] = a;
    } else {
      acc[0] += run(xr + r0, r1 - r0);
    }
    return;
  }
  Acc* __restrict a = acc;
  for (size_t r = r0; r < r1; r++) {
    const float* __restrict xr = x + (p * red + r) * post;
    for (size_t q = q0; q < q1; q++) a[q - q0] = step(a[q - q0], xr[q]);
  }
}

template <class Acc, class Step, class Combine, class Run = Serial>
void reduceAny(const float* x, float* out, size_t pre, size_t red, size_t post, Acc init, Step step,
               Combine combine, Run run = Run()) {
  const size_t blocks = std::max<size_t>(1, blockCount(red, kBlock));
  const size_t columnTasks = blockCount(post, kColumns);
  const size_t tasks = pre * blocks * columnTasks;
  const size_t perTask = std::max<size_t>(1, red / blocks * std::min(post, kColumns));
  // Partial results by (p, block, q); with one block they are the results.
  std::vector<Acc> partial(blocks > 1 ? pre * blocks * post : 0);
  parallelFor(tasks, std::max<size_t>(1, kGrain / perTask), [&](size_t t0, size_t t1) {
    std::vector<Acc> acc(std::min(post, kColumns));
    for (size_t t = t0; t < t1; t++) {
      const size_t c = t % columnTasks, blk = (t / columnTasks) % blocks, p = t / columnTasks / blocks;
      const size_t q0 = c * kColumns, q1 = std::min(post, q0 + kColumns);
      std::fill(acc.begin(), acc.begin() + (q1 - q0), init);
      reduceBlock(x, acc.data(), p, red, post, blk * kBlock, std::min(red, (blk + 1) * kBlock), q0, q1, step, run);
      if (blocks == 1) {
        for (size_t q = q0; q < q1; q++) out[p * post + q] = float(acc[q - q0]);
      } else {
        std::copy(acc.begin(), acc.begin() + (q1 - q0), partial.begin() + (p * blocks + blk) * post + q0);
      }
    }
  });
  if (blocks == 1) return;
  parallelFor(pre * post, kGrain / blocks + 1, [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; i++) {
      const size_t p = i / post, q = i % post;
      Acc a = partial[p * blocks * post + q];
      for (size_t blk = 1; blk < blocks; blk++) a = combine(a, partial[(p * blocks + blk) * post + q]);
      out[i] = float(a);
    }
  });
}

inline float nanMax(float a, float b) { return a != a ? a : ((b != b || b > a) ? b : a); }
inline float nanMin(float a, float b) { return a != a ? a : ((b != b || b < a) ? b : a); }

}  // namespace

double sumOfSquares(const float* x, size_t n) {
  const size_t blocks = blockCount(n, kBlock);
  std::vector<double> partial(blocks);
  parallelFor(blocks, std::max<size_t>(1, kGrain / kBlock), [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; b++) {
      const float* xb = x + b * kBlock;
      partial[b] = laneSum<double>(std::min(kBlock, n - b * kBlock), [xb](size_t j) { return double(xb[j]) * xb[j]; });
    }
  });
  double total = 0;
  for (double v : partial) total += v;
  return total;
}

void reduce(ReduceOp op, const float* x, float* out, size_t pre, size_t red, size_t post) {
  auto add = [](double a, double b) { return a + b; };
  switch (op) {
    case kSum:
      return reduceAny(x, out, pre, red, post, 0.0, [](double a, float v) { return a + v; }, add, LaneSum());
    case kMean: {
      const float inv = float(red);
      // tfjs divides each element by the count before summing; do the same.
      return reduceAny(x, out, pre, red, post, 0.0, [inv](double a, float v) { return a + double(v / inv); }, add, LaneMean{inv});
    }
    case kMaxR:
      return reduceAny(x, out, pre, red, post, -INFINITY, [](float a, float v) { return nanMax(a, v); }, nanMax);
    case kMinR:
      return reduceAny(x, out, pre, red, post, INFINITY, [](float a, float v) { return nanMin(a, v); }, nanMin);
    case kProd:
      return reduceAny(x, out, pre, red, post, 1.0, [](double a, float v) { return a * v; },
                       [](double a, double b) { return a * b; });
  }
}

}  // namespace course
