// A small fork-join pool: workers park on a condition variable between jobs, after spinning for
// a few microseconds (kernels come in quick succession during a train step, and a futex wake
// costs more than most kernels' chunks). Jobs are handed out as chunk indices from an atomic
// counter, so a worker that the OS has descheduled (a shared machine) never holds up the others.
#include "parallel.h"
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define COURSE_PAUSE() _mm_pause()
#else
#define COURSE_PAUSE() std::this_thread::yield()
#endif

namespace course {
namespace {

// How long an idle thread keeps checking for work before it parks.
constexpr auto kSpin = std::chrono::microseconds(30);

struct Job {
  const std::function<void(size_t, size_t)>* fn = nullptr;
  size_t n = 0, chunks = 0, align = 1;
  std::atomic<size_t> next{0}, done{0};

  size_t boundary(size_t c) const { return c == chunks ? n : c * n / chunks / align * align; }

  // Runs chunks until none are left; true when this call finished the job's last one.
  bool work() {
    bool last = false;
    for (size_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;) {
      (*fn)(boundary(c), boundary(c + 1));
      last = done.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks;
    }
    return last;
  }
};

thread_local bool insideJob = false;

template <class Ready>
bool spinUntil(Ready ready) {
  const auto until = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; i++) {
    if (ready()) return true;
    COURSE_PAUSE();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return false;
  }
}

class Pool {
 public:
  explicit Pool(int size) {
    for (int i = 1; i < size; i++) workers_.emplace_back([this] { loop(); });
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }

  int size() const { return int(workers_.size()) + 1; }

  void run(const std::shared_ptr<Job>& job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = job;
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    insideJob = true;
    job->work();
    insideJob = false;
    auto finished = [&] { return job->done.load(std::memory_order_acquire) == job->chunks; };
    if (!spinUntil(finished)) {
      std::unique_lock<std::mutex> lock(mutex_);
      finished_.wait(lock, finished);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (job_ == job) job_.reset();
  }

 private:
  void loop() {
    insideJob = true;
    uint64_t seen = 0;
    for (;;) {
      auto posted = [&] { return generation_.load(std::memory_order_acquire) != seen; };
      std::shared_ptr<Job> job;
      {
        if (!spinUntil(posted)) {
          std::unique_lock<std::mutex> lock(mutex_);
          wake_.wait(lock, posted);
        }
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) return;
        seen = generation_.load();
        job = job_;
      }
      if (job && job->work()) {
        std::lock_guard<std::mutex> lock(mutex_);
        finished_.notify_all();
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  std::atomic<uint64_t> generation_{0};
  std::shared_ptr<Job> job_;
  bool stop_ = false;
};

int wanted = 1;
// Never destroyed: at exit its workers are parked, and joining them from a static destructor
// would race with Node's own shutdown.
Pool* pool = nullptr;
// One job at a time: a second caller (another thread that loaded the addon) runs inline.
std::mutex busy;

}  // namespace

void setThreads(int n) {
  std::lock_guard<std::mutex> lock(busy);
  wanted = n < 1 ? 1 : n;
  if (pool && pool->size() != wanted) {
    delete pool;
    pool = nullptr;
  }
}

int threads() { return wanted; }

void parallelFor(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  if (grain < 1) grain = 1;
  size_t chunks = n / grain;
  // A few chunks per thread, so that a thread slowed by other load on the machine is covered.
  const size_t most = size_t(wanted) * 4;
  if (chunks > most) chunks = most;
  if (wanted < 2 || chunks < 2 || insideJob) return fn(0, n);
  std::unique_lock<std::mutex> lock(busy, std::try_to_lock);
  if (!lock.owns_lock()) return fn(0, n);
  if (!pool) pool = new Pool(wanted);
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->n = n;
  job->chunks = chunks;
  // Elementwise loops: chunks start at multiples of 64 elements, so the elements that fall to a
  // vectorized loop's scalar remainder are the same ones as on one thread (the two may round
  // differently where the compiler contracts a * b + c into an fma in one and not the other).
  job->align = grain >= 1024 ? 64 : 1;
  pool->run(job);
}

}  // namespace course
