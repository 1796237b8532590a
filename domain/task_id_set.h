// TaskIdSet: the ids of every task a lead ever had.
//
// The set only grows, and a lead is copied on every command (the handler
// keeps snapshots of it and hands states from one command to the next), so
// a busy lead's thousands of ids must not be copied each time. Most ids sit
// in an immutable block that copies share; inserts go to a small block of
// the copy's own, which joins a new shared block once it holds about the
// square root of the set's size. A copy then costs a few dozen strings at
// most, an insert amortized about as many, and a lookup one hash probe and
// a short scan.
//
// A value type: copies are independent. Not thread-safe for writes; copies
// may be used on different threads.
#ifndef LEADLEDGER_DOMAIN_TASK_ID_SET_H_
#define LEADLEDGER_DOMAIN_TASK_ID_SET_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace leadledger::domain {

class TaskIdSet {
 public:
  bool contains(absl::string_view id) const;
  // Adds `id`; false when it was there already.
  bool insert(absl::string_view id);
  size_t size() const;
  void clear();

  // Every id, sorted.
  std::vector<std::string> Sorted() const;

  friend bool operator==(const TaskIdSet& a, const TaskIdSet& b);

 private:
  using Block = absl::flat_hash_set<std::string>;

  // Ids shared with copies; never changed once built. Null when empty.
  std::shared_ptr<const Block> shared_;
  // Ids of this copy alone, in insertion order.
  std::vector<std::string> own_;
};

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_TASK_ID_SET_H_
