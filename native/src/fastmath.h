// Branch-free float math that GCC auto-vectorizes (libm's expf does not vectorize without
// -ffast-math). Accuracy is within ~2 ulp, far inside the tests' tolerance.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace course {

inline float bitsToFloat(int32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// Cephes expf's core: exp(x) = 2^n * exp(r), |r| <= ln2/2, exp(r) by a degree-6 polynomial.
// Returns exp(r) and sets n.
inline float expOfRemainder(float x, float& n) {
  n = std::floor(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * r + 1.3981999507e-3f;
  y = y * r + 8.3334519073e-3f;
  y = y * r + 4.1665795894e-2f;
  y = y * r + 1.6666665459e-1f;
  y = y * r + 5.0000001201e-1f;
  return y * r * r + r + 1.0f;
}

// exp(x) for any float.
inline float fastExp(float x) {
  const float hi = 88.72283905206835f, lo = -87.33654475055310f;
  float n;
  float y = expOfRemainder(x > hi ? hi : (x < lo ? lo : x), n);
  int32_t ni = static_cast<int32_t>(n);
  int32_t half = ni >> 1;  // split 2^n in two factors so n = 128 does not overflow
  y = y * bitsToFloat((half + 127) << 23) * bitsToFloat((ni - half + 127) << 23);
  y = x > hi ? INFINITY : y;
  y = x < lo ? 0.0f : y;
  return x != x ? x : y;
}

// fastExp for x <= 0 (or NaN), as softmax and Gaussian terms need: without the overflow side's
// clamp and split scaling, and bit for bit fastExp's value there (2^n stays a normal float).
inline float expNonPositive(float x) {
  const float lo = -87.33654475055310f;
  float n;
  float y = expOfRemainder(x < lo ? lo : x, n);
  y = y * bitsToFloat((static_cast<int32_t>(n) + 127) << 23);
  y = x < lo ? 0.0f : y;
  return x != x ? x : y;
}

// tanh from fastExp: 1 - 2 / (e^{2|x|} + 1), with a Taylor polynomial near 0 where that
// difference would cancel.
inline float fastTanh(float x) {
  const float a = std::fabs(x);
  const float big = 1.0f - 2.0f / (fastExp(2.0f * a) + 1.0f);
  const float x2 = x * x;
  const float small = a * (1.0f + x2 * (-0.333333333f + x2 * (0.133333333f + x2 * -0.0539682540f)));
  const float r = a < 0.125f ? small : big;
  return x != x ? x : std::copysign(r, x);
}

// Sums and maxima in kLanes interleaved accumulators: term(j) goes to lane j % kLanes and the
// lanes are combined in a fixed tree, so GCC vectorizes the loop without -ffast-math (a single
// accumulator is one long dependency chain) and the result depends on n alone, never on
// threads or alignment.
constexpr size_t kLanes = 16;

template <class Acc, class Term>
inline Acc laneSum(size_t n, Term term) {
  Acc acc[kLanes] = {};
  size_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (size_t l = 0; l < kLanes; l++) acc[l] += term(j + l);
  Acc tail = 0;  // (a lane array indexed by a variable would live in memory, not registers)
  for (; j < n; j++) tail += term(j);
  for (size_t w = kLanes / 2; w > 0; w /= 2)
    for (size_t l = 0; l < w; l++) acc[l] += acc[l + w];
  return acc[0] + tail;
}

// The largest of term(0 .. n-1) (-inf for n = 0); NaNs are skipped.
template <class Term>
inline float laneMax(size_t n, Term term) {
  float acc[kLanes];
  for (size_t l = 0; l < kLanes; l++) acc[l] = -INFINITY;
  size_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (size_t l = 0; l < kLanes; l++) {
      const float v = term(j + l);
      acc[l] = v > acc[l] ? v : acc[l];
    }
  float tail = -INFINITY;
  for (; j < n; j++) {
    const float v = term(j);
    tail = v > tail ? v : tail;
  }
  for (size_t w = kLanes / 2; w > 0; w /= 2)
    for (size_t l = 0; l < w; l++) acc[l] = acc[l + w] > acc[l] ? acc[l + w] : acc[l];
  return tail > acc[0] ? tail : acc[0];
}

}  // namespace course
