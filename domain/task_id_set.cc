#include "domain/task_id_set.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace leadledger::domain {
namespace {

// Own ids a set keeps before they join a shared block.
size_t OwnLimit(size_t size) {
  constexpr size_t kMinimum = 16;
  return std::max(kMinimum,
                  static_cast<size_t>(std::sqrt(static_cast<double>(size))));
}

}  // namespace

bool TaskIdSet::contains(absl::string_view id) const {
  if (shared_ != nullptr && shared_->contains(id)) return true;
  return std::find(own_.begin(), own_.end(), id) != own_.end();
}

bool TaskIdSet::insert(absl::string_view id) {
  if (contains(id)) return false;
  own_.emplace_back(id);
  if (own_.size() > OwnLimit(size())) {
    auto merged = std::make_shared<Block>();
    merged->reserve(size());
    if (shared_ != nullptr) merged->insert(shared_->begin(), shared_->end());
    for (std::string& own : own_) merged->insert(std::move(own));
    own_.clear();
    shared_ = std::move(merged);
  }
  return true;
}

size_t TaskIdSet::size() const {
  return (shared_ == nullptr ? 0 : shared_->size()) + own_.size();
}

void TaskIdSet::clear() {
  shared_.reset();
  own_.clear();
}

std::vector<std::string> TaskIdSet::Sorted() const {
  std::vector<std::string> ids(own_.begin(), own_.end());
  if (shared_ != nullptr)
    ids.insert(ids.end(), shared_->begin(), shared_->end());
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool operator==(const TaskIdSet& a, const TaskIdSet& b) {
  if (a.size() != b.size()) return false;
  if (a.shared_ == b.shared_ && a.own_ == b.own_) return true;
  // Neither set holds an id twice: equal sizes and inclusion make equality.
  if (a.shared_ != nullptr) {
    for (const std::string& id : *a.shared_) {
      if (!b.contains(id)) return false;
    }
  }
  for (const std::string& id : a.own_) {
    if (!b.contains(id)) return false;
  }
  return true;
}

}  // namespace leadledger::domain
