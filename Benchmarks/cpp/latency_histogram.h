// A fixed-size log-linear latency histogram (nanoseconds in, percentiles out), so recording a call
// costs an increment and never allocates. Values below 128 ns are exact; above, each power of two
// is split into 64 buckets (at most 1.6 % error). The Swift benchmark clients use the same layout
// (Sources/conductor-bench/LatencyHistogram.swift).
#pragma once

#include <array>
#include <cstdint>

class LatencyHistogram {
 public:
  void Record(uint64_t nanoseconds) {
    ++counts_[Index(nanoseconds)];
    ++total_;
  }

  void Merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
  }

  uint64_t total() const { return total_; }

  // The value (bucket midpoint, nanoseconds) at or below which `fraction` of the recorded values lie.
  double Percentile(double fraction) const {
    if (total_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(fraction * static_cast<double>(total_));
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return Midpoint(i);
    }
    return Midpoint(counts_.size() - 1);
  }

 private:
  static constexpr int kExact = 128;
  static constexpr int kSubBuckets = 64;
  static constexpr int kMaxExponent = 40;
  static constexpr int kBuckets = kExact + (kMaxExponent - 6) * kSubBuckets;

  static size_t Index(uint64_t value) {
    if (value < kExact) return static_cast<size_t>(value);
    int exponent = 63 - __builtin_clzll(value);
    if (exponent > kMaxExponent) return kBuckets - 1;
    const uint64_t sub = (value >> (exponent - 6)) & (kSubBuckets - 1);
    return kExact + static_cast<size_t>(exponent - 7) * kSubBuckets + static_cast<size_t>(sub);
  }

  static double Midpoint(size_t index) {
    if (index < kExact) return static_cast<double>(index);
    const size_t offset = index - kExact;
    const int exponent = static_cast<int>(offset / kSubBuckets) + 7;
    const uint64_t sub = offset % kSubBuckets;
    const uint64_t width = uint64_t{1} << (exponent - 6);
    return static_cast<double>((kSubBuckets + sub) * width) + static_cast<double>(width) / 2;
  }

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
};
