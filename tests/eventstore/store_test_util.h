// Small helpers for event store tests: appends of events whose payloads are
// strings, payloads and positions of what was read, raw access to the disk.
#ifndef LEADLEDGER_TESTS_EVENTSTORE_STORE_TEST_UTIL_H_
#define LEADLEDGER_TESTS_EVENTSTORE_STORE_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eventstore/event_store.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"

namespace leadledger::eventstore {

// An append of events with the given payloads (ids "id-<payload>", type
// "Noted") to one stream.
inline AppendRequest OneStream(const std::string& stream,
                               ExpectedVersion expected,
                               const std::vector<std::string>& payloads,
                               const std::string& idempotency_key = "") {
  StreamWrite write{.stream = stream, .expected_version = expected};
  for (const std::string& payload : payloads) {
    write.events.push_back({.event_id = absl::StrCat("id-", payload),
                            .type = "Noted",
                            .payload = payload});
  }
  AppendRequest request;
  request.writes.push_back(std::move(write));
  request.metadata = {.actor = "tester", .correlation_id = "corr"};
  request.idempotency_key = idempotency_key;
  return request;
}

inline std::vector<std::string> PayloadsOf(
    const std::vector<RecordedEvent>& events) {
  std::vector<std::string> payloads;
  for (const RecordedEvent& event : events) payloads.push_back(event.payload);
  return payloads;
}

inline std::vector<uint64_t> PositionsOf(
    const std::vector<RecordedEvent>& events) {
  std::vector<uint64_t> positions;
  for (const RecordedEvent& event : events) positions.push_back(event.position);
  return positions;
}

// Opens the store's RocksDB directly, to damage it the way a disk could.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    rocksdb::DBOptions options;
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(options, path, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const std::string& name : names) {
      families.push_back({name, rocksdb::ColumnFamilyOptions()});
    }
    EXPECT_TRUE(
        rocksdb::DB::Open(options, path, families, &handles_, &db_).ok());
    names_ = names;
  }
  ~RawDb() {
    for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
    delete db_;
  }
  rocksdb::ColumnFamilyHandle* Family(const std::string& name) {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return handles_[i];
    }
    return nullptr;
  }
  rocksdb::DB* db() { return db_; }

 private:
  rocksdb::DB* db_ = nullptr;
  std::vector<std::string> names_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace leadledger::eventstore

#endif  // LEADLEDGER_TESTS_EVENTSTORE_STORE_TEST_UTIL_H_
