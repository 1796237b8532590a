#include "projections/overlay_rows.h"

#include <utility>
#include <vector>

namespace leadledger::projections {

absl::StatusOr<std::optional<std::string>> OverlayRows::Get(
    absl::string_view key) {
  auto it = writes_.find(key);
  if (it != writes_.end()) return it->second.value;
  return base_->Get(key);
}

void OverlayRows::Put(absl::string_view key, absl::string_view value) {
  auto [it, inserted] = writes_.try_emplace(key);
  const bool after_deletion =
      !inserted && (it->second.after_deletion || !it->second.value.has_value());
  it->second =
      Write{.value = std::string(value), .after_deletion = after_deletion};
}

void OverlayRows::Delete(absl::string_view key) {
  writes_.insert_or_assign(std::string(key), Write{});
}

void OverlayRows::DeleteWrittenOnce(absl::string_view key) {
  auto it = writes_.find(key);
  if (it != writes_.end() && it->second.value.has_value() &&
      !it->second.after_deletion) {
    // The one put since the key was last deleted is this one: the store
    // holds no value, and the pair goes without a trace (a task closed in
    // the commit that scheduled it leaves no deletion markers).
    writes_.erase(it);
    return;
  }
  writes_.insert_or_assign(std::string(key), Write{.written_once = true});
}

absl::Status OverlayRows::ScanPrefix(
    absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& visit) {
  // The base's rows first, then a merge with the overlay's in key order; the
  // overlay wins where both have a key.
  std::vector<std::pair<std::string, std::string>> stored;
  absl::Status scanned = base_->ScanPrefix(
      prefix, [&](absl::string_view key, absl::string_view value) {
        stored.emplace_back(key, value);
        return true;
      });
  if (!scanned.ok()) return scanned;
  auto mine = writes_.lower_bound(prefix);
  auto in_prefix = [&](const std::string& key) {
    return absl::string_view(key).substr(0, prefix.size()) == prefix;
  };
  auto theirs = stored.begin();
  while (true) {
    const bool mine_left = mine != writes_.end() && in_prefix(mine->first);
    const bool theirs_left = theirs != stored.end();
    if (!mine_left && !theirs_left) break;
    if (mine_left && (!theirs_left || mine->first <= theirs->first)) {
      if (theirs_left && mine->first == theirs->first) ++theirs;
      const std::optional<std::string>& value = mine->second.value;
      const std::string& key = mine->first;
      ++mine;
      if (value.has_value() && !visit(key, *value)) break;
    } else {
      if (!visit(theirs->first, theirs->second)) break;
      ++theirs;
    }
  }
  return absl::OkStatus();
}

void OverlayRows::Apply() {
  base_->Reserve(writes_.size());
  for (auto& [key, write] : writes_) {
    if (write.value.has_value()) {
      base_->PutOwned(key, *std::move(write.value));
    } else if (write.written_once) {
      base_->DeleteWrittenOnce(key);
    } else {
      base_->Delete(key);
    }
  }
  writes_.clear();
}

}  // namespace leadledger::projections
