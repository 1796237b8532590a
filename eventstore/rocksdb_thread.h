// What a thread of ours does before it first uses RocksDB.
#ifndef LEADLEDGER_EVENTSTORE_ROCKSDB_THREAD_H_
#define LEADLEDGER_EVENTSTORE_ROCKSDB_THREAD_H_

namespace leadledger::eventstore {

// Stops RocksDB counting into its perf context on the calling thread.
//
// RocksDB counts every key comparison, seek and block read of a thread into
// thread-local counters unless told otherwise. LeadLedger never reads them,
// and a memtable insert compares its key dozens of times: counting was
// about 5% of the server's instructions under the mixed load (measured
// with the shared librocksdb, where each count also looked its counters up
// through __tls_get_addr). Every thread we start that reads or writes
// RocksDB calls this first; RocksDB's own flush and compaction threads keep
// counting.
void DisableRocksDbPerfCountersOnThisThread();

// Whether RocksDB counts into the calling thread's perf context.
bool RocksDbPerfCountersEnabledOnThisThread();

}  // namespace leadledger::eventstore

#endif  // LEADLEDGER_EVENTSTORE_ROCKSDB_THREAD_H_
