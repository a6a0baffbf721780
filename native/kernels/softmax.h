#pragma once

#include <cstdint>

namespace spur {

// x, out: [rows, cols], along the last axis (out may be x itself).
void softmax(const float* x, int64_t rows, int64_t cols, float* out);
void logSoftmax(const float* x, int64_t rows, int64_t cols, float* out);
// logits: [rows, cols], labels: [rows] in [0, cols) -> loss: [rows], probs: [rows, cols]
void softmaxCrossEntropy(const float* logits, const int32_t* labels, int64_t rows, int64_t cols,
                         float* loss, float* probs);

}  // namespace spur
