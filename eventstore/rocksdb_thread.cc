#include "eventstore/rocksdb_thread.h"

#include "rocksdb/perf_level.h"

namespace leadledger::eventstore {

void DisableRocksDbPerfCountersOnThisThread() {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
}

bool RocksDbPerfCountersEnabledOnThisThread() {
  return rocksdb::GetPerfLevel() > rocksdb::PerfLevel::kDisable;
}

}  // namespace leadledger::eventstore
