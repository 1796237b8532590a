#include "services/allocator_tuning.h"

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

// jemalloc's control interface, when the process links jemalloc; null
// otherwise (a weak reference leaves the program free of the dependency).
extern "C" int mallctl(const char* name, void* old_value, size_t* old_length,
                       void* new_value, size_t new_length)
    __attribute__((weak));

namespace leadledger::services {
namespace {

constexpr char kBackgroundThread[] = "background_thread";

template <typename T>
bool Read(const std::string& name, T& value) {
  size_t length = sizeof(value);
  return mallctl(name.c_str(), &value, &length, nullptr, 0) == 0;
}

template <typename T>
bool Write(const std::string& name, T value) {
  return mallctl(name.c_str(), nullptr, nullptr, &value, sizeof(value)) == 0;
}

// The arena of bulk folds' threads, created on first use; nullopt without
// jemalloc, or when jemalloc cannot create one (then the threads keep the
// arenas jemalloc gives them).
std::optional<unsigned> BulkFoldArena() {
  static const std::optional<unsigned> arena = []() -> std::optional<unsigned> {
    unsigned created = 0;
    if (mallctl == nullptr || !Read("arenas.create", created)) {
      return std::nullopt;
    }
    return created;
  }();
  return arena;
}

std::string ArenaControl(unsigned arena, const char* name) {
  return absl::StrCat("arena.", arena, ".", name);
}

void BulkFoldsRun(bool folding) {
  // Every call here only trades memory for CPU or back: a failed one costs
  // the fold what it would have saved, nothing else.
  (void)SetAllocatorBackgroundPurge(folding);
  const std::optional<unsigned> arena = BulkFoldArena();
  if (!arena.has_value()) return;
  ssize_t keep_ms = -1;
  if (!folding) {
    // Back to jemalloc's default for an arena, once its pages are given
    // back: the folds' threads may still allocate a little until they end.
    (void)Read("opt.dirty_decay_ms", keep_ms);
    (void)mallctl(ArenaControl(*arena, "purge").c_str(), nullptr, nullptr,
                  nullptr, 0);
  }
  (void)Write(ArenaControl(*arena, "dirty_decay_ms"), keep_ms);
}

void AllocateFromBulkFoldArena() {
  if (std::optional<unsigned> arena = BulkFoldArena()) {
    (void)Write("thread.arena", *arena);
  }
}

}  // namespace

bool SetAllocatorBackgroundPurge(bool on) {
  if (mallctl == nullptr) return false;
  return Write(kBackgroundThread, on);
}

std::optional<bool> AllocatorBackgroundPurge() {
  bool on = false;
  if (mallctl == nullptr || !Read(kBackgroundThread, on)) return std::nullopt;
  return on;
}

projections::BulkFoldHooks AllocatorTuningForBulkFolds() {
  return projections::BulkFoldHooks{
      .folding = BulkFoldsRun, .thread_started = AllocateFromBulkFoldArena};
}

std::optional<BulkFoldArenaStats> GetBulkFoldArenaStats() {
  const std::optional<unsigned> arena = BulkFoldArena();
  if (!arena.has_value()) return std::nullopt;
  uint64_t epoch = 1;
  size_t length = sizeof(epoch);
  if (mallctl("epoch", &epoch, &length, &epoch, length) != 0) {
    return std::nullopt;
  }
  size_t pages = 0;
  size_t page_bytes = 0;
  ssize_t keep_ms = 0;
  if (!Read(absl::StrCat("stats.arenas.", *arena, ".pdirty"), pages) ||
      !Read("arenas.page", page_bytes) ||
      !Read(ArenaControl(*arena, "dirty_decay_ms"), keep_ms)) {
    return std::nullopt;
  }
  return BulkFoldArenaStats{.arena = *arena,
                            .unused_bytes = pages * page_bytes,
                            .keep_freed_pages_ms = keep_ms};
}

std::optional<unsigned> ThisThreadsArena() {
  unsigned arena = 0;
  if (mallctl == nullptr || !Read("thread.arena", arena)) return std::nullopt;
  return arena;
}

}  // namespace leadledger::services
