// A persistent pool of worker threads, created once. Work is split statically into
// contiguous chunks fixed by the thread count; whichever thread runs a chunk computes the
// same values, so every kernel that keeps one writer per output element gives
// bit-identical results for a given thread count.
#pragma once

#include <cstdint>
#include <utility>

namespace spur {

// Threads the pool uses, including the calling thread (>= 1).
int poolThreads();
// Resizes the pool; n <= 0 means all cores (or SPURLAB_THREADS when set).
void setPoolThreads(int n);

// The most chunks one poolRun can hand out (the claim counter is 16 bits).
constexpr int kMaxChunks = 0xffff;

// Runs fn(ctx, chunk) for chunk in [0, chunks), chunks <= kMaxChunks; free threads claim
// the next unstarted chunk, so more chunks than threads balance the load when the OS
// deschedules a worker. Called from inside a chunk (nesting) or concurrently from another
// thread it runs serially.
void poolRun(int chunks, void (*fn)(void*, int), void* ctx);

// Splits [0, n) into exactly min(n, chunks) contiguous ranges and runs f(begin, end,
// chunk) on each, on whichever thread claims it. The ranges depend only on n and chunks,
// so per-chunk partial results reduced in chunk order stay deterministic.
template <class F>
void parallelForChunks(int64_t n, int chunks, F&& f) {
  if (n <= 0) return;
  if (chunks > n) chunks = static_cast<int>(n);
  if (chunks > kMaxChunks) chunks = kMaxChunks;
  if (chunks <= 1 || poolThreads() <= 1) {
    if (chunks <= 1) { f(int64_t{0}, n, 0); return; }
    for (int c = 0; c < chunks; ++c) f(n * c / chunks, n * (c + 1) / chunks, c);
    return;
  }
  struct Ctx { F* f; int64_t n; int chunks; };
  Ctx ctx{&f, n, chunks};
  poolRun(chunks, [](void* p, int chunk) {
    Ctx* c = static_cast<Ctx*>(p);
    int64_t begin = c->n * chunk / c->chunks;
    int64_t end = c->n * (chunk + 1) / c->chunks;
    if (begin < end) (*c->f)(begin, end, chunk);
  }, &ctx);
}

// The number of chunks parallelFor(n, grain, ...) uses, for sizing per-chunk scratch.
inline int parallelChunks(int64_t n, int64_t grain) {
  if (n <= 0) return 1;
  int64_t maxChunks = grain > 0 ? (n + grain - 1) / grain : n;
  int chunks = poolThreads();
  return maxChunks < chunks ? static_cast<int>(maxChunks < 1 ? 1 : maxChunks) : chunks;
}

// Splits [0, n) into at most poolThreads() chunks of at least `grain` items and runs
// f(begin, end, chunk) on each; small ranges stay on the calling thread.
template <class F>
void parallelFor(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  parallelForChunks(n, parallelChunks(n, grain), std::forward<F>(f));
}

}  // namespace spur
