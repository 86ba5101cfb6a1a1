// Counter-based dropout masks, the same bits as lib/engine/random-kernels.ts: element i is kept
// when the top 24 bits of lowbias32(lowbias32(i) ^ key) reach the threshold. Any element's draw
// is computed on its own, so a backward pass recomputes the forward pass's mask instead of storing it.
#pragma once
#include <cstddef>
#include <cstdint>

namespace course {

// Chris Wellons' lowbias32 integer hash (github.com/skeeto/hash-prospector).
inline uint32_t lowbias32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

// Inverted dropout's constants (dropoutConstants in random-kernels.ts); threshold 0 keeps all.
struct Dropout {
  uint32_t key = 0;
  uint32_t threshold = 0;
  float scale = 1.0f;
  bool on() const { return threshold > 0; }
  bool keeps(size_t index) const { return (lowbias32(lowbias32(uint32_t(index)) ^ key) >> 8) >= threshold; }
  // scale where element `index` is kept, else 0.
  float factor(size_t index) const { return keeps(index) ? scale : 0.0f; }
  // x * scale where kept, else 0 (even for an infinite or NaN x, as the JavaScript kernel).
  float apply(float x, size_t index) const { return keeps(index) ? x * scale : 0.0f; }
};

}  // namespace course
