#include "threadpool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SPUR_PAUSE() _mm_pause()
#else
#define SPUR_PAUSE() ((void)0)
#endif

namespace spur {
namespace {

thread_local bool tInsidePool = false;

// Workers spin briefly before sleeping: kernels arrive back to back during training and
// a futex wake-up costs more than a short GEMM, but a worker that spins forever would
// steal the core from the JS thread between steps.
constexpr auto kSpin = std::chrono::microseconds(200);

// Chunks are claimed, not assigned: whoever is free (the caller included) takes the next
// unstarted chunk. A chunk computes the same thing whichever thread runs it, so results
// stay deterministic, and a worker the OS has not scheduled yet no longer holds up the
// caller, which matters on a busy 2-core machine.
class Pool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { workerLoop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true, std::memory_order_release);
      state_.store(pack(nextGeneration(), 0, 0), std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int threads() const { return threads_; }

  void run(int chunks, void (*fn)(void*, int), void* ctx) {
    fn_ = fn;
    ctx_ = ctx;
    done_.store(0, std::memory_order_relaxed);
    const uint32_t gen = nextGeneration();
    {
      std::lock_guard<std::mutex> lock(mu_);
      state_.store(pack(gen, chunks, 0), std::memory_order_release);
    }
    cv_.notify_all();
    tInsidePool = true;
    claimLoop(gen);
    tInsidePool = false;
    // Even when a chunk failed, wait for all of them: they still use ctx.
    while (done_.load(std::memory_order_acquire) != chunks) SPUR_PAUSE();
    if (error_) {
      std::exception_ptr e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
  }

 private:
  // state_ packs generation (32 bits) | chunks (16) | next unclaimed chunk (16), so a
  // claim is one compare-and-swap that also fails for a worker still on an old run.
  static uint64_t pack(uint32_t gen, int chunks, int next) {
    return (uint64_t{gen} << 32) | (static_cast<uint64_t>(chunks) << 16) | static_cast<uint64_t>(next);
  }
  uint32_t nextGeneration() {
    if (++generation_ == 0) ++generation_;  // 0 is what a new worker has seen
    return generation_;
  }

  bool claim(uint32_t gen, int* chunk) {
    uint64_t v = state_.load(std::memory_order_acquire);
    for (;;) {
      if (static_cast<uint32_t>(v >> 32) != gen) return false;
      const int chunks = static_cast<int>((v >> 16) & 0xffff), next = static_cast<int>(v & 0xffff);
      if (next >= chunks) return false;
      if (state_.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
        *chunk = next;
        return true;
      }
    }
  }

  // fn_ and ctx_ are read only after a successful claim: the run cannot finish, and the
  // next one cannot overwrite them, before the claimed chunk is done.
  void claimLoop(uint32_t gen) {
    int chunk;
    while (claim(gen, &chunk)) {
      runChunk(fn_, ctx_, chunk);
      done_.fetch_add(1, std::memory_order_acq_rel);
    }
  }

  // An exception (bad_alloc) must not escape a worker thread, which would terminate the
  // process; the first one is rethrown on the calling thread.
  void runChunk(void (*fn)(void*, int), void* ctx, int chunk) {
    try {
      fn(ctx, chunk);
    } catch (...) {
      std::lock_guard<std::mutex> lock(errorMu_);
      if (!error_) error_ = std::current_exception();
    }
  }

  void workerLoop() {
    tInsidePool = true;
    uint32_t seen = 0;
    for (;;) {
      seen = waitForWork(seen);
      if (stop_.load(std::memory_order_acquire)) return;
      claimLoop(seen);
    }
  }

  uint32_t waitForWork(uint32_t seen) {
    auto gen = [&] { return static_cast<uint32_t>(state_.load(std::memory_order_acquire) >> 32); };
    auto start = std::chrono::steady_clock::now();
    for (int i = 0;; ++i) {
      if (gen() != seen) return gen();
      SPUR_PAUSE();
      if ((i & 255) == 255 && std::chrono::steady_clock::now() - start > kSpin) break;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return gen() != seen; });
    return gen();
  }

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> state_{0};
  std::atomic<int> done_{0};
  std::atomic<bool> stop_{false};
  uint32_t generation_ = 0;  // caller side only
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
  std::mutex errorMu_;
  std::exception_ptr error_;
};

int defaultThreads() {
  const char* env = std::getenv("SPURLAB_THREADS");
  if (env != nullptr) {
    int n = std::atoi(env);
    if (n >= 1 && n <= 256) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw >= 1 ? static_cast<int>(hw) : 1;
}

// One parallel region at a time: Node worker_threads may share the addon, and a region
// that cannot get the pool runs serially instead of waiting.
std::mutex gRunMutex;
Pool* gPool = nullptr;
std::atomic<int> gThreads{0};

Pool& pool() {
  if (gPool == nullptr) {
    gPool = new Pool(defaultThreads());
    gThreads.store(gPool->threads());
  }
  return *gPool;
}

}  // namespace

int poolThreads() {
  int n = gThreads.load(std::memory_order_relaxed);
  if (n == 0) {
    std::lock_guard<std::mutex> lock(gRunMutex);
    n = pool().threads();
  }
  return n;
}

void setPoolThreads(int n) {
  std::lock_guard<std::mutex> lock(gRunMutex);
  int want = n >= 1 ? n : defaultThreads();
  if (gPool != nullptr && gPool->threads() == want) return;
  delete gPool;
  gPool = new Pool(want);
  gThreads.store(want);
}

void poolRun(int chunks, void (*fn)(void*, int), void* ctx) {
  std::unique_lock<std::mutex> lock(gRunMutex, std::defer_lock);
  if (chunks <= 1 || tInsidePool || !lock.try_lock() || chunks > kMaxChunks) {
    for (int c = 0; c < chunks; ++c) fn(ctx, c);
    return;
  }
  pool().run(chunks, fn, ctx);
}

}  // namespace spur
