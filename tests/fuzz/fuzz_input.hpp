#pragma once

// A small cursor over the fuzzer's bytes, for targets that need structured input (a few choices
// first, then a payload).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  /// Up to `max` bytes (fewer at the end of the input).
  std::string_view Take(size_t max) {
    size_t n = std::min(max, size_ - pos_);
    std::string_view out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }
  /// Bytes up to the next '\n' (consumed, not returned), or the rest.
  std::string_view Line() {
    std::string_view rest(reinterpret_cast<const char*>(data_ + pos_), size_ - pos_);
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      pos_ = size_;
      return rest;
    }
    pos_ += nl + 1;
    return rest.substr(0, nl);
  }
  std::string_view Rest() { return Take(size_ - pos_); }
  bool empty() const { return pos_ >= size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace sluice::fuzz
