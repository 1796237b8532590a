// Tuning of the process's allocator while a workload that needs it runs.
//
// leadledgerd allocates with jemalloc (see services/CMakeLists.txt). By
// default jemalloc gives freed pages back to the kernel from inside the calls
// that free memory. For a bulk fold of the read models, which builds, sorts
// and writes tens of MiB of rows per commit and frees them again, that cost a
// quarter of its CPU: madvise, the TLB flushes it forces on every core, and
// page faults when the pages were touched again. jemalloc's background
// threads do that work off the fold's threads instead. Under request load the
// same threads cost a few percent of throughput, so they run only while a
// bulk fold does (ProjectionRunnerOptions::bulk_fold_hook).
//
// In a process that allocates with something else (the sanitizers' builds,
// tests) these calls do nothing.
#ifndef LEADLEDGER_SERVICES_ALLOCATOR_TUNING_H_
#define LEADLEDGER_SERVICES_ALLOCATOR_TUNING_H_

#include <optional>

namespace leadledger::services {

// Starts (true) or stops (false) jemalloc's background threads. Returns
// whether the process allocates with jemalloc and the setting took.
bool SetAllocatorBackgroundPurge(bool on);

// Whether jemalloc's background threads run; nullopt when the process does
// not allocate with jemalloc.
std::optional<bool> AllocatorBackgroundPurge();

// A ProjectionRunnerOptions::bulk_fold_hook: the background threads run while
// a bulk fold does.
void PurgeInBackgroundDuringBulkFolds(bool folding);

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_ALLOCATOR_TUNING_H_
