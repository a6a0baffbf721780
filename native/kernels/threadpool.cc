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

class Pool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { workerLoop(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_.store(true, std::memory_order_release);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int threads() const { return threads_; }

  // The caller runs chunk 0; workers 1..chunks-1 run the rest.
  void run(int chunks, void (*fn)(void*, int), void* ctx) {
    fn_ = fn;
    ctx_ = ctx;
    chunks_ = chunks;
    // Every worker acknowledges every generation, even without a chunk, so none can
    // still be reading this run's fields when the next run overwrites them.
    pending_.store(threads_ - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(mu_);
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    tInsidePool = true;
    runChunk(fn, ctx, 0);
    tInsidePool = false;
    // Even when a chunk failed, wait for all of them: they still use ctx.
    while (pending_.load(std::memory_order_acquire) != 0) SPUR_PAUSE();
    if (error_) {
      std::exception_ptr e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
  }

 private:
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

  void workerLoop(int id) {
    tInsidePool = true;
    uint64_t seen = 0;  // the generation at construction, even if a run started already
    for (;;) {
      uint64_t gen = waitForWork(seen);
      seen = gen;
      if (stop_.load(std::memory_order_acquire)) return;
      if (id < chunks_) runChunk(fn_, ctx_, id);
      pending_.fetch_sub(1, std::memory_order_acq_rel);
    }
  }

  uint64_t waitForWork(uint64_t seen) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0;; ++i) {
      uint64_t gen = generation_.load(std::memory_order_acquire);
      if (gen != seen) return gen;
      SPUR_PAUSE();
      if ((i & 255) == 255 && std::chrono::steady_clock::now() - start > kSpin) break;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
    return generation_.load(std::memory_order_acquire);
  }

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  void (*fn_)(void*, int) = nullptr;
  void* ctx_ = nullptr;
  int chunks_ = 0;
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
  if (chunks <= 1 || tInsidePool || !lock.try_lock() || chunks > pool().threads()) {
    for (int c = 0; c < chunks; ++c) fn(ctx, c);
    return;
  }
  pool().run(chunks, fn, ctx);
}

}  // namespace spur
