// The addon's thread pool. Kernels split their work with parallelFor; the JS thread runs chunks
// too, and a call from inside a chunk (or while another call is running) runs inline, so the
// kernels never wait on each other.
#pragma once
#include <cstddef>
#include <functional>

namespace course {

// Threads the kernels may use, the calling thread included (1: everything runs inline).
void setThreads(int n);
int threads();

// Runs fn(begin, end) over [0, n) in contiguous chunks of at least `grain` items, on up to
// threads() threads, and returns when all are done. Fewer than 2 * grain items run inline, so a
// small tensor never pays for waking a thread. With a grain of 1024 or more, chunks start at
// multiples of 64 (some chunks may then be empty). Which thread runs a chunk varies from call to call:
// fn must write disjoint outputs per item (or per chunk, where the caller fixed the chunking).
void parallelFor(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn);

// Fixed-size blocks of [0, n): block b is [b * size, min(n, (b + 1) * size)). Reductions sum
// per block and then over the blocks in order, so their results never depend on threads().
inline size_t blockCount(size_t n, size_t size) { return (n + size - 1) / size; }

}  // namespace course
