#include "services/allocator_tuning.h"

#include <cstddef>

// jemalloc's control interface, when the process links jemalloc; null
// otherwise (a weak reference leaves the program free of the dependency).
extern "C" int mallctl(const char* name, void* old_value, size_t* old_length,
                       void* new_value, size_t new_length)
    __attribute__((weak));

namespace leadledger::services {
namespace {

constexpr char kBackgroundThread[] = "background_thread";

}  // namespace

bool SetAllocatorBackgroundPurge(bool on) {
  if (mallctl == nullptr) return false;
  return mallctl(kBackgroundThread, nullptr, nullptr, &on, sizeof(on)) == 0;
}

std::optional<bool> AllocatorBackgroundPurge() {
  if (mallctl == nullptr) return std::nullopt;
  bool on = false;
  size_t length = sizeof(on);
  if (mallctl(kBackgroundThread, &on, &length, nullptr, 0) != 0) {
    return std::nullopt;
  }
  return on;
}

void PurgeInBackgroundDuringBulkFolds(bool folding) {
  // Without jemalloc there is nothing to tune; a failed switch only costs
  // the fold the time the threads would have saved.
  (void)SetAllocatorBackgroundPurge(folding);
}

}  // namespace leadledger::services
