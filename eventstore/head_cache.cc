#include "eventstore/head_cache.h"

#include <algorithm>
#include <utility>

namespace leadledger::eventstore {

HeadCache::HeadCache(size_t capacity)
    : generation_capacity_(std::max<size_t>(1, capacity / 2)) {}

std::optional<int64_t> HeadCache::Find(absl::string_view stream) {
  if (auto it = young_.find(stream); it != young_.end()) return it->second;
  auto it = old_.find(stream);
  if (it == old_.end()) return std::nullopt;
  const int64_t version = it->second;
  // Promoted, so that a stream in use outlives its generation.
  Set(stream, version);
  return version;
}

void HeadCache::Set(absl::string_view stream, int64_t version) {
  if (auto it = young_.find(stream); it != young_.end()) {
    it->second = version;
    return;
  }
  Reserve();
  old_.erase(stream);
  young_.emplace(stream, version);
}

void HeadCache::Reserve() {
  if (young_.size() < generation_capacity_) return;
  old_ = std::move(young_);
  young_ = Heads();
}

}  // namespace leadledger::eventstore
