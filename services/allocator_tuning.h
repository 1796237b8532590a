// Tuning of the process's allocator while a workload that needs it runs.
//
// leadledgerd allocates with jemalloc (see services/CMakeLists.txt). A bulk
// fold of the read models builds, sorts and writes tens of MiB of rows per
// commit and frees them again, on threads it starts for each commit. With
// jemalloc's defaults that cost it twice:
// - jemalloc gives freed pages back to the kernel from inside the calls that
//   free memory: madvise, the TLB flushes it forces on every core, and page
//   faults when the pages are touched again were a quarter of the fold's
//   CPU. Its background threads do that work off the fold's threads.
// - Each new thread allocates from whichever of jemalloc's arenas holds the
//   fewest threads, so each commit's rows landed in other arenas than the
//   last commit's freed pages, which then waited there for their decay
//   (10 s): about half of a rebuild's resident memory was such pages.
// So while a bulk fold runs, its threads all allocate from one arena of
// their own, which keeps the pages they free for the next commit instead of
// giving them back, and the background threads run. Once the last fold
// ends, that arena gives back every page it kept and the background threads
// stop: under request load they cost a few percent of throughput. A thread
// that ran a fold and lives on (the projections' follower) keeps allocating
// from that arena, which then gives pages back as any other does.
//
// In a process that allocates with something else (the sanitizers' builds,
// tests) these calls do nothing.
#ifndef LEADLEDGER_SERVICES_ALLOCATOR_TUNING_H_
#define LEADLEDGER_SERVICES_ALLOCATOR_TUNING_H_

#include <cstddef>
#include <optional>

#include "projections/projection_runner.h"

namespace leadledger::services {

// Starts (true) or stops (false) jemalloc's background threads. Returns
// whether the process allocates with jemalloc and the setting took.
bool SetAllocatorBackgroundPurge(bool on);

// Whether jemalloc's background threads run; nullopt when the process does
// not allocate with jemalloc.
std::optional<bool> AllocatorBackgroundPurge();

// The ProjectionRunnerOptions::bulk_fold_hooks that tune jemalloc for bulk
// folds as above.
projections::BulkFoldHooks AllocatorTuningForBulkFolds();

// The arena that bulk folds' threads allocate from, and the pages it keeps
// that nothing uses; nullopt without jemalloc. For tests and benchmarks.
struct BulkFoldArenaStats {
  unsigned arena = 0;
  size_t unused_bytes = 0;
  // How long the arena keeps freed pages; -1 for as long as it lives.
  long keep_freed_pages_ms = 0;
};
std::optional<BulkFoldArenaStats> GetBulkFoldArenaStats();

// The arena the calling thread allocates from; nullopt without jemalloc.
std::optional<unsigned> ThisThreadsArena();

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_ALLOCATOR_TUNING_H_
