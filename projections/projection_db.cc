#include "projections/projection_db.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "domain/status_macros.h"
#include "eventstore/rocksdb_thread.h"
#include "projections/key_sort.h"
#include "projections/overlay_rows.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/metadata.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/table.h"
#include "rocksdb/table_properties.h"
#include "rocksdb/utilities/table_properties_collectors.h"
#include "rocksdb/write_batch.h"

namespace leadledger::projections {
namespace {

// Keys of the store's own, in every keyspace and in the catalog.
constexpr absl::string_view kCheckpointKey("\0checkpoint", 11);
constexpr absl::string_view kNextGenerationKey = "next_generation";
constexpr absl::string_view kLivePrefix = "live/";
constexpr absl::string_view kShadowPrefix = "shadow/";

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  if (status.IsCorruption()) {
    return absl::DataLossError(absl::StrCat(what, ": ", status.ToString()));
  }
  return absl::UnavailableError(absl::StrCat(what, ": ", status.ToString()));
}

std::string EncodeBigEndian(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

absl::StatusOr<uint64_t> DecodeBigEndian(absl::string_view bytes) {
  if (bytes.size() != 8) {
    return absl::DataLossError("projection checkpoint: not 8 bytes");
  }
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<uint8_t>(c);
  return value;
}

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

absl::string_view ToView(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

// Blocks cached for every keyspace together: folds read rows back, queries
// read rows and index ranges.
constexpr size_t kBlockCacheBytes = 64 << 20;

// Size of the table files compactions write.
constexpr uint64_t kTableFileBytes = 64 << 20;

// Table files a shadow may pile up before they are merged into one sorted
// run. Every file keeps its bloom filter and index in memory (and a read
// probes the filter of each file that may hold its key), so the bound keeps
// a rebuild's memory and its reads in check whatever the log's length. A
// rebuild writes a file per bulk commit and shard; a log of two million
// events, folded in two shards, stays below it and is compacted once.
constexpr size_t kMaxDeferredFiles = 160;

// A file is compacted early when a run of this many entries holds this many
// deletions: queues such as an owner's agenda delete at the front of their
// range, which every scan from the front would otherwise step over.
constexpr size_t kDeletionWindow = 4096;
constexpr size_t kDeletionTrigger = 1024;

rocksdb::ColumnFamilyOptions KeyspaceOptions(
    std::shared_ptr<rocksdb::Cache> block_cache, size_t memtable_bytes = 0) {
  rocksdb::ColumnFamilyOptions options;
  options.write_buffer_size = memtable_bytes > 0 ? memtable_bytes : 32 << 20;
  options.max_write_buffer_number = 3;
  options.target_file_size_base = kTableFileBytes;
  // Levels sized from the last one up: while a keyspace is small, level 0
  // compacts straight into the last level, where deletions meet the rows
  // they delete and vanish. With levels sized from level 1 down, a file
  // rich in deletions (an agenda's closed tasks) is marked for compaction
  // again at every level it passes, and rewritten once per level.
  options.level_compaction_dynamic_level_bytes = true;
  // No filters in the last level, which holds nearly all the rows: a filter
  // holds 10 bits a key and stays in memory with its file, so the memory of
  // a server, and of a rebuild, would grow with the log. Queries read rows
  // that exist (a filter only saves the search for a missing key) and scan
  // index ranges (which filters do not serve).
  options.optimize_filters_for_hits = true;
  options.table_properties_collector_factories.push_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(kDeletionWindow,
                                                    kDeletionTrigger));
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_size = 16 * 1024;
  table.block_cache = std::move(block_cache);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

// The memtable size `options` give the keyspaces of `projection` (0: the
// default).
size_t MemtableBytes(const ProjectionDbOptions& options,
                     absl::string_view projection) {
  auto it = options.memtable_bytes.find(projection);
  return it == options.memtable_bytes.end() ? 0 : it->second;
}

// The first `length(key)` bytes of a key, for keys where that is not 0.
// - "leadledger.AppendRun" names the run of keys a memtable write starts its
//   search from (ProjectionSpec::append_run_length). Only memtables use it,
//   never tables, so nothing stored depends on it.
// - "leadledger.ScanPrefix" names the prefix a fold scans
//   (ProjectionSpec::scan_prefix_length). Table files record the name with
//   the prefixes their filters hold; a file written under another name (or
//   none) is searched, never skipped.
class KeyPrefixTransform final : public rocksdb::SliceTransform {
 public:
  KeyPrefixTransform(const char* name,
                     std::function<size_t(absl::string_view)> length)
      : name_(name), length_(std::move(length)) {}

  const char* Name() const override { return name_; }

  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), Length(key));
  }

  bool InDomain(const rocksdb::Slice& key) const override {
    return Length(key) > 0;
  }

 private:
  size_t Length(const rocksdb::Slice& key) const {
    return std::min(length_(absl::string_view(key.data(), key.size())),
                    key.size());
  }

  const char* const name_;
  std::function<size_t(absl::string_view)> length_;
};

// The prefixes the table files of `projection`'s keyspaces filter, or
// nullptr.
std::shared_ptr<const rocksdb::SliceTransform> ScanPrefixes(
    const ProjectionDbOptions& options, absl::string_view projection) {
  auto it = options.scan_prefix_lengths.find(projection);
  if (it == options.scan_prefix_lengths.end()) return nullptr;
  return std::make_shared<KeyPrefixTransform>("leadledger.ScanPrefix",
                                              it->second);
}

// The options of `projection`'s keyspaces.
rocksdb::ColumnFamilyOptions ProjectionKeyspaceOptions(
    std::shared_ptr<rocksdb::Cache> block_cache,
    const ProjectionDbOptions& options, absl::string_view projection) {
  rocksdb::ColumnFamilyOptions keyspace = KeyspaceOptions(
      std::move(block_cache), MemtableBytes(options, projection));
  if (auto it = options.append_run_lengths.find(projection);
      it != options.append_run_lengths.end()) {
    keyspace.memtable_insert_with_hint_prefix_extractor =
        std::make_shared<KeyPrefixTransform>("leadledger.AppendRun",
                                             it->second);
  }
  keyspace.prefix_extractor = ScanPrefixes(options, projection);
  return keyspace;
}

// The options that differ between a shadow being filled (`deferred`) and a
// keyspace compacted as usual, as SetOptions takes them.
std::unordered_map<std::string, std::string> CompactionSettings(bool deferred) {
  if (deferred) {
    // Nothing compacts the files away until CompactShadow: ingestions must
    // never wait for that.
    const std::string never = std::to_string(1 << 30);
    return {{"disable_auto_compactions", "true"},
            {"level0_slowdown_writes_trigger", never},
            {"level0_stop_writes_trigger", never},
            {"soft_pending_compaction_bytes_limit", "0"},
            {"hard_pending_compaction_bytes_limit", "0"}};
  }
  const rocksdb::ColumnFamilyOptions usual = KeyspaceOptions(nullptr);
  return {{"disable_auto_compactions", "false"},
          {"level0_slowdown_writes_trigger",
           std::to_string(usual.level0_slowdown_writes_trigger)},
          {"level0_stop_writes_trigger",
           std::to_string(usual.level0_stop_writes_trigger)},
          {"soft_pending_compaction_bytes_limit",
           std::to_string(usual.soft_pending_compaction_bytes_limit)},
          {"hard_pending_compaction_bytes_limit",
           std::to_string(usual.hard_pending_compaction_bytes_limit)}};
}

// Merges every table file of `handle` (after flushing its memtable) into
// sorted files of the last level, on this thread and helpers of its own.
absl::Status CompactAllFiles(rocksdb::DB* db,
                             rocksdb::ColumnFamilyHandle* handle) {
  RETURN_IF_ERROR(FromRocks(db->Flush(rocksdb::FlushOptions(), handle),
                            "projection compaction: flush"));
  std::vector<std::string> files;
  int last_level = 0;
  while (true) {
    rocksdb::ColumnFamilyMetaData meta;
    db->GetColumnFamilyMetaData(handle, &meta);
    files.clear();
    bool busy = false;
    for (const rocksdb::LevelMetaData& level : meta.levels) {
      for (const rocksdb::SstFileMetaData& file : level.files) {
        files.push_back(file.name);
        busy = busy || file.being_compacted;
      }
      last_level = level.level;
    }
    // A compaction started before automatic ones were turned off (when the
    // store opened) holds some files; none starts after it.
    if (!busy) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  if (files.empty()) return absl::OkStatus();
  rocksdb::CompactionOptions options;
  options.compression = rocksdb::kDisableCompressionOption;
  options.output_file_size_limit = kTableFileBytes;
  options.max_subcompactions =
      std::max(1u, std::thread::hardware_concurrency());
  return FromRocks(db->CompactFiles(options, handle, files, last_level),
                   "projection compaction");
}

// Catalog value: "<column family>\t<version>".
struct CatalogValue {
  std::string id;
  int version = 0;
};

absl::StatusOr<CatalogValue> ParseCatalogValue(absl::string_view value) {
  std::vector<absl::string_view> parts = absl::StrSplit(value, '\t');
  CatalogValue out;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &out.version)) {
    return absl::DataLossError(
        absl::StrCat("projection catalog: bad entry \"", value, "\""));
  }
  out.id = std::string(parts[0]);
  return out;
}

// Visits the entries of `it` under `prefix` until `visit` returns false.
absl::Status ScanPrefixOf(
    rocksdb::Iterator& it, absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& visit) {
  for (it.Seek(ToSlice(prefix)); it.Valid(); it.Next()) {
    absl::string_view key = ToView(it.key());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!visit(key, ToView(it.value()))) break;
  }
  return FromRocks(it.status(), "projection scan");
}

// The committed value of `key` in `handle`: what a commit's rows read.
absl::StatusOr<std::optional<std::string>> ReadCommitted(
    rocksdb::DB& db, rocksdb::ColumnFamilyHandle* handle,
    absl::string_view key) {
  std::string value;
  rocksdb::Status status =
      db.Get(rocksdb::ReadOptions(), handle, ToSlice(key), &value);
  if (status.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(FromRocks(status, "projection read"));
  return value;
}

// Visits the committed entries of `keyspace` under `prefix`.
absl::Status ScanCommitted(
    rocksdb::DB& db, const Keyspace& keyspace, absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& visit) {
  rocksdb::ReadOptions options;
  const rocksdb::SliceTransform* filtered = keyspace.scan_prefixes().get();
  if (filtered != nullptr && filtered->InDomain(ToSlice(prefix)) &&
      filtered->Transform(ToSlice(prefix)).size() == prefix.size()) {
    // Files whose filter lacks the prefix are skipped.
    options.prefix_same_as_start = true;
  } else {
    // Any other scan reads every file, whatever it seeks to.
    options.total_order_seek = true;
  }
  std::unique_ptr<rocksdb::Iterator> it(
      db.NewIterator(options, keyspace.handle()));
  return ScanPrefixOf(*it, prefix, visit);
}

// Whether `keyspace`'s row cache answers for `key` as a read at `sequence`
// would; if so, `value` holds the row.
bool ReadRowCache(const Keyspace& keyspace, absl::string_view key,
                  uint64_t sequence, std::string* value) {
  return keyspace.row_cache() != nullptr && keyspace.Cached(key) &&
         keyspace.row_cache()->Lookup(key, sequence, value);
}

// A kNormal commit's rows of one keyspace, written straight into the
// commit's batch: reads see the store as it was before the commit.
class RocksRowBatch final : public RowBatch {
 public:
  RocksRowBatch(rocksdb::DB* db, rocksdb::WriteBatch* batch,
                const Keyspace& keyspace)
      : db_(db), batch_(batch), keyspace_(keyspace) {}

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override {
    // A fold reads back the rows it rewrites (a lead's row, at the lead's
    // first event in a commit): the row cache answers as a read at the
    // latest sequence number would, without a search of the memtables and
    // tables.
    std::string value;
    if (ReadRowCache(keyspace_, key, db_->GetLatestSequenceNumber(), &value)) {
      return value;
    }
    return ReadCommitted(*db_, keyspace_.handle(), key);
  }

  // A WriteBatch only refuses keys and values of 4 GiB and more.
  void Put(absl::string_view key, absl::string_view value) override {
    (void)batch_->Put(keyspace_.handle(), ToSlice(key), ToSlice(value));
  }

  void Delete(absl::string_view key) override {
    (void)batch_->Delete(keyspace_.handle(), ToSlice(key));
  }

  void DeleteWrittenOnce(absl::string_view key) override {
    (void)batch_->SingleDelete(keyspace_.handle(), ToSlice(key));
  }

  absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      override {
    return ScanCommitted(*db_, keyspace_, prefix, visit);
  }

 private:
  rocksdb::DB* db_;
  rocksdb::WriteBatch* batch_;
  const Keyspace& keyspace_;
};

// A bulk commit's rows: reads go to the store; writes are kept, to be
// written as one table file of the keyspace.
class BulkRowBatch final : public RowBatch {
 public:
  struct Write {
    std::string key;
    std::string value;
    bool erase;
  };

  // `keyspace` must outlive the batch.
  BulkRowBatch(rocksdb::DB* db, const Keyspace& keyspace)
      : db_(db), keyspace_(keyspace) {}

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override {
    return ReadCommitted(*db_, keyspace_.handle(), key);
  }

  void Put(absl::string_view key, absl::string_view value) override {
    writes_.push_back(Write{std::string(key), std::string(value), false});
  }

  void Delete(absl::string_view key) override {
    writes_.push_back(Write{std::string(key), std::string(), true});
  }

  void PutOwned(std::string key, std::string value) override {
    writes_.push_back(Write{std::move(key), std::move(value), false});
  }

  void DeleteOwned(std::string key) override {
    writes_.push_back(Write{std::move(key), std::string(), true});
  }

  void Reserve(size_t writes) override {
    const size_t wanted = writes_.size() + writes;
    // Never less than doubling, so that many hints still grow it
    // geometrically.
    if (wanted > writes_.capacity()) {
      writes_.reserve(std::max(wanted, 2 * writes_.capacity()));
    }
  }

  absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      override {
    return ScanCommitted(*db_, keyspace_, prefix, visit);
  }

  const Keyspace& keyspace() const { return keyspace_; }

  // Calls `visit` with every write in key order, each key once with its
  // last write, until it fails; then forgets them.
  absl::Status VisitSorted(
      const std::function<absl::Status(const Write&)>& visit) {
    // Folds write mostly in key order (SortedWrites), with some writes out
    // of it (the checkpoint, last): sort the rest and merge it in. Positions
    // are sorted, not the writes; ties keep the order of writing.
    auto less = [this](uint32_t a, uint32_t b) {
      const int compared = writes_[a].key.compare(writes_[b].key);
      return compared < 0 || (compared == 0 && a < b);
    };
    std::vector<uint32_t> order(writes_.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    auto unsorted = std::is_sorted_until(order.begin(), order.end(), less);
    if (order.end() - unsorted > 1) {
      std::vector<absl::string_view> keys(writes_.size());
      for (size_t i = 0; i < keys.size(); ++i) keys[i] = writes_[i].key;
      SortPositionsByKey(keys,
                         absl::MakeSpan(&*unsorted, order.end() - unsorted));
    }
    std::inplace_merge(order.begin(), unsorted, order.end(), less);
    absl::Status status;
    for (size_t i = 0; i < order.size() && status.ok(); ++i) {
      // Of several writes of one key, the last counts.
      if (i + 1 < order.size() &&
          writes_[order[i]].key == writes_[order[i + 1]].key) {
        continue;
      }
      status = visit(writes_[order[i]]);
    }
    writes_.clear();
    return status;
  }

  bool empty() const { return writes_.empty(); }

 private:
  rocksdb::DB* db_;
  const Keyspace& keyspace_;
  std::vector<Write> writes_;
};

class RocksCommit final : public ProjectionCommit {
 public:
  RocksCommit(rocksdb::DB* db, CommitMode mode,
              std::function<void()> writer_thread_started)
      : db_(db),
        mode_(mode),
        writer_thread_started_(std::move(writer_thread_started)) {}

  using ProjectionCommit::Rows;
  RowBatch& Rows(const KeyspaceRef& keyspace, int shard) override {
    if (mode_ == CommitMode::kBulk) return BulkRows(keyspace, shard);
    NormalRows& rows = Normal(keyspace);
    if (rows.overlay == nullptr) {
      rows.overlay = std::make_unique<OverlayRows>();
      rows.overlay->Attach(*rows.unindexed);
    }
    return *rows.overlay;
  }

  RowBatch& UnindexedRows(const KeyspaceRef& keyspace) override {
    if (mode_ == CommitMode::kBulk) return BulkRows(keyspace, 0);
    return *Normal(keyspace).unindexed;
  }

  void SetCheckpoint(const KeyspaceRef& keyspace, uint64_t position) override {
    UnindexedRows(keyspace).Put(kCheckpointKey, EncodeBigEndian(position));
  }

  CommitMode mode() const { return mode_; }
  const std::function<void()>& writer_thread_started() const {
    return writer_thread_started_;
  }
  // kNormal commits: the batch to write, with the writes read back through
  // Rows in it.
  rocksdb::WriteBatch* batch() {
    for (auto& [keyspace, rows] : normal_) {
      if (rows.overlay != nullptr) rows.overlay->Apply();
    }
    return &batch_;
  }
  // kBulk commits: the rows of each keyspace and shard written.
  const std::vector<BulkRowBatch*>& bulk() const { return bulk_; }
  // The keyspaces written.
  const std::vector<KeyspaceRef>& keyspaces() const { return keep_; }

 private:
  struct NormalRows {
    std::unique_ptr<RocksRowBatch> unindexed;
    // Keeps the writes made through Rows, for its reads, until batch().
    std::unique_ptr<OverlayRows> overlay;
  };

  void Keep(const KeyspaceRef& keyspace) {
    if (std::find(keep_.begin(), keep_.end(), keyspace) == keep_.end()) {
      keep_.push_back(keyspace);
    }
  }

  NormalRows& Normal(const KeyspaceRef& keyspace) {
    auto [it, inserted] = normal_.try_emplace(keyspace.get());
    if (inserted) {
      Keep(keyspace);
      it->second.unindexed =
          std::make_unique<RocksRowBatch>(db_, &batch_, *keyspace);
    }
    return it->second;
  }

  BulkRowBatch& BulkRows(const KeyspaceRef& keyspace, int shard) {
    auto [it, inserted] =
        bulk_rows_.try_emplace(std::make_pair(keyspace.get(), shard), nullptr);
    if (inserted) {
      Keep(keyspace);
      it->second = std::make_unique<BulkRowBatch>(db_, *keyspace);
      bulk_.push_back(it->second.get());
    }
    return *it->second;
  }

  rocksdb::DB* db_;
  const CommitMode mode_;
  const std::function<void()> writer_thread_started_;
  // kNormal commits: every write, in one batch.
  rocksdb::WriteBatch batch_;
  std::map<const Keyspace*, NormalRows> normal_;
  std::map<std::pair<const Keyspace*, int>, std::unique_ptr<BulkRowBatch>>
      bulk_rows_;
  std::vector<BulkRowBatch*> bulk_;
  // The keyspaces written stay alive until the commit is.
  std::vector<KeyspaceRef> keep_;
};

class RocksReader final : public ProjectionReader {
 public:
  explicit RocksReader(rocksdb::DB* db)
      : db_(db), snapshot_(db->GetSnapshot()) {}
  ~RocksReader() override { db_->ReleaseSnapshot(snapshot_); }

  absl::StatusOr<std::optional<std::string>> Get(
      const Keyspace& keyspace, absl::string_view key) override {
    std::string value;
    if (FromCache(keyspace, key, &value)) return value;
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    rocksdb::Status status =
        db_->Get(options, keyspace.handle(), ToSlice(key), &value);
    if (status.IsNotFound()) return std::nullopt;
    RETURN_IF_ERROR(FromRocks(status, "projection read"));
    return value;
  }

  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      const Keyspace& keyspace, absl::Span<const std::string> keys) override {
    std::vector<std::optional<std::string>> out(keys.size());
    // The positions of the keys the cache does not answer.
    std::vector<size_t> missed;
    for (size_t i = 0; i < keys.size(); ++i) {
      std::string value;
      if (FromCache(keyspace, keys[i], &value)) {
        out[i] = std::move(value);
      } else {
        missed.push_back(i);
      }
    }
    if (missed.empty()) return out;
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    std::vector<rocksdb::Slice> slices;
    slices.reserve(missed.size());
    for (size_t i : missed) slices.push_back(ToSlice(keys[i]));
    std::vector<rocksdb::PinnableSlice> values(missed.size());
    std::vector<rocksdb::Status> statuses(missed.size());
    db_->MultiGet(options, keyspace.handle(), slices.size(), slices.data(),
                  values.data(), statuses.data());
    for (size_t j = 0; j < missed.size(); ++j) {
      if (statuses[j].IsNotFound()) continue;
      RETURN_IF_ERROR(FromRocks(statuses[j], "projection read"));
      out[missed[j]] = values[j].ToString();
    }
    return out;
  }

  absl::Status Scan(
      const Keyspace& keyspace, absl::string_view lower,
      absl::string_view upper, ScanOrder order,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      override {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    // A range may span many prefixes a keyspace filters: no file is skipped.
    options.total_order_seek = true;
    rocksdb::Slice lower_bound = ToSlice(lower);
    rocksdb::Slice upper_bound = ToSlice(upper);
    options.iterate_lower_bound = &lower_bound;
    if (!upper.empty()) options.iterate_upper_bound = &upper_bound;
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(options, keyspace.handle()));
    if (order == ScanOrder::kAscending) {
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        if (!visit(ToView(it->key()), ToView(it->value()))) break;
      }
    } else {
      for (it->SeekToLast(); it->Valid(); it->Prev()) {
        if (!visit(ToView(it->key()), ToView(it->value()))) break;
      }
    }
    return FromRocks(it->status(), "projection scan");
  }

 private:
  bool FromCache(const Keyspace& keyspace, absl::string_view key,
                 std::string* value) {
    return ReadRowCache(keyspace, key, snapshot_->GetSequenceNumber(), value);
  }

  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

// The last write of each cached row in a commit's batch, by column family.
class CachedWrites final : public rocksdb::WriteBatch::Handler {
 public:
  explicit CachedWrites(const std::vector<KeyspaceRef>& keyspaces) {
    for (const KeyspaceRef& keyspace : keyspaces) {
      if (keyspace->row_cache() == nullptr) continue;
      by_family_.emplace(keyspace->handle()->GetID(),
                         Writes{.keyspace = keyspace.get()});
    }
  }

  bool empty() const { return by_family_.empty(); }

  // Announces the writes to the caches.
  void Begin() {
    for (auto& [family, writes] : by_family_) {
      if (writes.uncertain) {
        writes.keyspace->row_cache()->Suspend();
        continue;
      }
      for (const auto& [key, value] : writes.rows) {
        writes.keyspace->row_cache()->BeginWrite(key);
      }
    }
  }

  // Ends them, with what the store now holds when `applied`; hands the
  // values over to the caches.
  void Finish(bool applied, uint64_t sequence) {
    for (auto& [family, writes] : by_family_) {
      if (writes.uncertain) {
        writes.keyspace->row_cache()->Resume();
        continue;
      }
      for (auto& [key, value] : writes.rows) {
        writes.keyspace->row_cache()->FinishWrite(
            key, applied ? std::move(value) : std::nullopt, sequence);
      }
    }
  }

  rocksdb::Status PutCF(uint32_t family, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    Record(family, key, value.ToString());
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t family,
                           const rocksdb::Slice& key) override {
    Record(family, key, std::nullopt);
    return rocksdb::Status::OK();
  }
  rocksdb::Status SingleDeleteCF(uint32_t family,
                                 const rocksdb::Slice& key) override {
    Record(family, key, std::nullopt);
    return rocksdb::Status::OK();
  }
  // Writes that RowBatch never makes: the whole cache steps aside.
  rocksdb::Status DeleteRangeCF(uint32_t family, const rocksdb::Slice&,
                                const rocksdb::Slice&) override {
    MarkUncertain(family);
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(uint32_t family, const rocksdb::Slice&,
                          const rocksdb::Slice&) override {
    MarkUncertain(family);
    return rocksdb::Status::OK();
  }
  rocksdb::Status PutBlobIndexCF(uint32_t family, const rocksdb::Slice&,
                                 const rocksdb::Slice&) override {
    MarkUncertain(family);
    return rocksdb::Status::OK();
  }

 private:
  struct Writes {
    const Keyspace* keyspace;
    // Whether the batch writes it in ways not tracked key by key.
    bool uncertain = false;
    absl::flat_hash_map<std::string, std::optional<std::string>> rows;
  };

  void Record(uint32_t family, const rocksdb::Slice& key,
              std::optional<std::string> value) {
    auto it = by_family_.find(family);
    if (it == by_family_.end() || !it->second.keyspace->Cached(ToView(key))) {
      return;
    }
    it->second.rows[ToView(key)] = std::move(value);
  }

  void MarkUncertain(uint32_t family) {
    auto it = by_family_.find(family);
    if (it != by_family_.end()) it->second.uncertain = true;
  }

  absl::flat_hash_map<uint32_t, Writes> by_family_;
};

}  // namespace

Keyspace::~Keyspace() { (void)db_->DestroyColumnFamilyHandle(handle_); }

bool Keyspace::Cached(absl::string_view key) const {
  for (const std::string& prefix : cached_prefixes_) {
    if (absl::StartsWith(key, prefix)) return true;
  }
  return false;
}

ProjectionDbOptions ProjectionDbOptionsFor(
    const std::vector<ProjectionSpec>& specs) {
  ProjectionDbOptions options;
  for (const ProjectionSpec& spec : specs) {
    if (!spec.cached_rows.empty()) {
      options.cached_rows[spec.name] = spec.cached_rows;
    }
    if (spec.memtable_bytes > 0) {
      options.memtable_bytes[spec.name] = spec.memtable_bytes;
    }
    if (spec.append_run_length) {
      options.append_run_lengths[spec.name] = spec.append_run_length;
    }
    if (spec.scan_prefix_length) {
      options.scan_prefix_lengths[spec.name] = spec.scan_prefix_length;
    }
  }
  return options;
}

absl::StatusOr<std::unique_ptr<ProjectionDb>> ProjectionDb::Open(
    const std::string& path, ProjectionDbOptions options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;

  std::vector<std::string> families;
  rocksdb::Status listed =
      rocksdb::DB::ListColumnFamilies(db_options, path, &families);
  if (!listed.ok()) families = {rocksdb::kDefaultColumnFamilyName};

  std::shared_ptr<rocksdb::Cache> block_cache =
      rocksdb::NewLRUCache(kBlockCacheBytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& family : families) {
    // Keyspaces are named "<projection>.<generation>".
    const absl::string_view projection =
        absl::string_view(family).substr(0, family.rfind('.'));
    descriptors.emplace_back(
        family,
        family == rocksdb::kDefaultColumnFamilyName
            ? rocksdb::ColumnFamilyOptions()
            : ProjectionKeyspaceOptions(block_cache, options, projection));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(
      rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw),
      absl::StrCat("projection store ", path)));
  // Table files of bulk commits are written here before their ingestion
  // moves them into the database; a crash may leave some behind.
  const std::string bulk_directory = path + "/bulk";
  std::error_code error;
  std::filesystem::remove_all(bulk_directory, error);
  if (!error) std::filesystem::create_directories(bulk_directory, error);
  if (error) {
    delete raw;
    return absl::UnavailableError(absl::StrCat(
        "projection store ", bulk_directory, ": ", error.message()));
  }
  std::unique_ptr<ProjectionDb> db(
      new ProjectionDb(std::unique_ptr<rocksdb::DB>(raw), bulk_directory,
                       std::move(block_cache), std::move(options)));

  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name;
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    if (handle->GetName() == rocksdb::kDefaultColumnFamilyName) {
      (void)raw->DestroyColumnFamilyHandle(handle);
    } else {
      by_name[handle->GetName()] = handle;
    }
  }

  absl::MutexLock lock(&db->mu_);
  std::unique_ptr<rocksdb::Iterator> it(
      raw->NewIterator(rocksdb::ReadOptions()));
  absl::Status catalog_status;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::string_view key = ToView(it->key());
    absl::string_view value = ToView(it->value());
    if (key == kNextGenerationKey) {
      if (!absl::SimpleAtoi(value, &db->next_generation_)) {
        catalog_status =
            absl::DataLossError("projection catalog: bad next_generation");
      }
      continue;
    }
    const bool live = key.substr(0, kLivePrefix.size()) == kLivePrefix;
    const bool shadow = key.substr(0, kShadowPrefix.size()) == kShadowPrefix;
    if (!live && !shadow) continue;
    std::string projection(
        key.substr(live ? kLivePrefix.size() : kShadowPrefix.size()));
    absl::StatusOr<CatalogValue> parsed = ParseCatalogValue(value);
    if (!parsed.ok()) {
      catalog_status = parsed.status();
      continue;
    }
    auto handle = by_name.find(parsed->id);
    if (handle == by_name.end()) {
      // The catalog write and the column family creation are not atomic:
      // an entry whose family never came to be is simply absent.
      continue;
    }
    KeyspaceRef keyspace = db->MakeKeyspace(handle->second, projection,
                                            parsed->id, parsed->version);
    by_name.erase(handle);
    Entry& entry = db->catalog_[projection];
    (live ? entry.live : entry.shadow) = std::move(keyspace);
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "projection catalog"));
  RETURN_IF_ERROR(catalog_status);
  // Every family opened with the options of a live keyspace: a shadow a
  // crash interrupted goes on being filled without compactions.
  for (const auto& [projection, entry] : db->catalog_) {
    if (entry.shadow != nullptr) {
      RETURN_IF_ERROR(db->DeferCompaction(*entry.shadow, true));
    }
  }
  // Families no entry names are leftovers of a promotion or a shadow
  // replaced before a crash.
  for (auto& [name, handle] : by_name) {
    RETURN_IF_ERROR(FromRocks(raw->DropColumnFamily(handle),
                              absl::StrCat("drop keyspace ", name)));
    (void)raw->DestroyColumnFamilyHandle(handle);
  }
  return db;
}

ProjectionDb::ProjectionDb(std::unique_ptr<rocksdb::DB> db,
                           std::string bulk_directory,
                           std::shared_ptr<rocksdb::Cache> block_cache,
                           ProjectionDbOptions options)
    : db_(std::move(db)),
      bulk_directory_(std::move(bulk_directory)),
      block_cache_(std::move(block_cache)),
      options_(std::move(options)) {}

KeyspaceRef ProjectionDb::MakeKeyspace(rocksdb::ColumnFamilyHandle* handle,
                                       std::string projection, std::string id,
                                       int version) const {
  std::vector<std::string> cached_prefixes;
  if (auto it = options_.cached_rows.find(projection);
      it != options_.cached_rows.end() && options_.row_cache_bytes > 0) {
    cached_prefixes = it->second;
  }
  std::shared_ptr<const rocksdb::SliceTransform> scan_prefixes =
      ScanPrefixes(options_, projection);
  return std::shared_ptr<const Keyspace>(
      new Keyspace(db_.get(), handle, std::move(projection), std::move(id),
                   version, std::move(cached_prefixes),
                   options_.row_cache_bytes, std::move(scan_prefixes)));
}

ProjectionDb::~ProjectionDb() {
  {
    absl::MutexLock lock(&mu_);
    catalog_.clear();
  }
  db_.reset();
}

KeyspaceRef ProjectionDb::Live(absl::string_view projection) {
  absl::MutexLock lock(&mu_);
  auto it = catalog_.find(projection);
  return it == catalog_.end() ? nullptr : it->second.live;
}

KeyspaceRef ProjectionDb::Shadow(absl::string_view projection) {
  absl::MutexLock lock(&mu_);
  auto it = catalog_.find(projection);
  return it == catalog_.end() ? nullptr : it->second.shadow;
}

absl::StatusOr<KeyspaceRef> ProjectionDb::NewKeyspace(
    absl::string_view projection, int version) {
  const std::string id = absl::StrCat(projection, ".", next_generation_++);
  RETURN_IF_ERROR(
      FromRocks(db_->Put(rocksdb::WriteOptions(), ToSlice(kNextGenerationKey),
                         absl::StrCat(next_generation_)),
                "projection catalog"));
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  RETURN_IF_ERROR(FromRocks(
      db_->CreateColumnFamily(
          ProjectionKeyspaceOptions(block_cache_, options_, projection), id,
          &handle),
      absl::StrCat("create keyspace ", id)));
  return MakeKeyspace(handle, std::string(projection), id, version);
}

absl::Status ProjectionDb::WriteCatalog(absl::string_view projection,
                                        const Entry& entry) {
  rocksdb::WriteBatch batch;
  for (const auto& [prefix, keyspace] :
       {std::pair(kLivePrefix, entry.live),
        std::pair(kShadowPrefix, entry.shadow)}) {
    const std::string key = absl::StrCat(prefix, projection);
    if (keyspace == nullptr) {
      (void)batch.Delete(key);
    } else {
      (void)batch.Put(key,
                      absl::StrCat(keyspace->id(), "\t", keyspace->version()));
    }
  }
  rocksdb::WriteOptions options;
  options.sync = true;  // a catalog switch is rare and must survive a crash
  return FromRocks(db_->Write(options, &batch), "projection catalog");
}

absl::StatusOr<KeyspaceRef> ProjectionDb::CreateLive(
    absl::string_view projection, int version) {
  absl::MutexLock lock(&mu_);
  Entry entry = catalog_[std::string(projection)];
  if (entry.live != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("projection ", projection, " already has a keyspace"));
  }
  ASSIGN_OR_RETURN(entry.live, NewKeyspace(projection, version));
  RETURN_IF_ERROR(WriteCatalog(projection, entry));
  catalog_[std::string(projection)] = entry;
  return entry.live;
}

absl::StatusOr<KeyspaceRef> ProjectionDb::CreateShadow(
    absl::string_view projection, int version) {
  absl::MutexLock lock(&mu_);
  Entry entry = catalog_[std::string(projection)];
  KeyspaceRef previous = entry.shadow;
  ASSIGN_OR_RETURN(entry.shadow, NewKeyspace(projection, version));
  RETURN_IF_ERROR(DeferCompaction(*entry.shadow, true));
  RETURN_IF_ERROR(WriteCatalog(projection, entry));
  catalog_[std::string(projection)] = entry;
  if (previous != nullptr) {
    RETURN_IF_ERROR(FromRocks(db_->DropColumnFamily(previous->handle_),
                              absl::StrCat("drop keyspace ", previous->id())));
  }
  return entry.shadow;
}

absl::Status ProjectionDb::Promote(absl::string_view projection) {
  absl::MutexLock lock(&mu_);
  auto it = catalog_.find(projection);
  if (it == catalog_.end() || it->second.shadow == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("projection ", projection, " has no rebuilt keyspace"));
  }
  Entry entry{.live = it->second.shadow, .shadow = nullptr};
  KeyspaceRef previous = it->second.live;
  if (entry.live->compaction_deferred_) {
    RETURN_IF_ERROR(DeferCompaction(*entry.live, false));
  }
  RETURN_IF_ERROR(WriteCatalog(projection, entry));
  it->second = entry;
  if (previous != nullptr) {
    RETURN_IF_ERROR(FromRocks(db_->DropColumnFamily(previous->handle_),
                              absl::StrCat("drop keyspace ", previous->id())));
  }
  return absl::OkStatus();
}

absl::Status ProjectionDb::CompactShadow(absl::string_view projection) {
  KeyspaceRef shadow = Shadow(projection);
  if (shadow == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("projection ", projection, " has no rebuilt keyspace"));
  }
  RETURN_IF_ERROR(CompactAllFiles(db_.get(), shadow->handle_));
  return DeferCompaction(*shadow, false);
}

absl::Status ProjectionDb::DeferCompaction(const Keyspace& keyspace,
                                           bool defer) {
  RETURN_IF_ERROR(
      FromRocks(db_->SetOptions(keyspace.handle_, CompactionSettings(defer)),
                absl::StrCat("keyspace ", keyspace.id(), " options")));
  keyspace.compaction_deferred_ = defer;
  return absl::OkStatus();
}

absl::Status ProjectionDb::DropShadow(absl::string_view projection) {
  absl::MutexLock lock(&mu_);
  auto it = catalog_.find(projection);
  if (it == catalog_.end() || it->second.shadow == nullptr) {
    return absl::OkStatus();
  }
  Entry entry{.live = it->second.live, .shadow = nullptr};
  KeyspaceRef previous = it->second.shadow;
  RETURN_IF_ERROR(WriteCatalog(projection, entry));
  it->second = entry;
  return FromRocks(db_->DropColumnFamily(previous->handle_),
                   absl::StrCat("drop keyspace ", previous->id()));
}

absl::StatusOr<uint64_t> ProjectionDb::Checkpoint(const Keyspace& keyspace) {
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), keyspace.handle_,
                                    ToSlice(kCheckpointKey), &value);
  if (status.IsNotFound()) return 0;
  RETURN_IF_ERROR(FromRocks(status, "projection checkpoint"));
  return DecodeBigEndian(value);
}

std::unique_ptr<ProjectionCommit> ProjectionDb::NewCommit(
    CommitMode mode, std::function<void()> writer_thread_started) {
  return std::make_unique<RocksCommit>(db_.get(), mode,
                                       std::move(writer_thread_started));
}

absl::Status ProjectionDb::Write(ProjectionCommit& commit) {
  auto& rocks = static_cast<RocksCommit&>(commit);
  // Before the commit, so that a failed merge leaves nothing of it applied.
  for (const KeyspaceRef& keyspace : rocks.keyspaces()) {
    if (!keyspace->compaction_deferred_) continue;
    rocksdb::ColumnFamilyMetaData meta;
    db_->GetColumnFamilyMetaData(keyspace->handle_, &meta);
    if (meta.file_count >= kMaxDeferredFiles) {
      RETURN_IF_ERROR(CompactAllFiles(db_.get(), keyspace->handle_));
    }
  }
  if (rocks.mode() == CommitMode::kNormal) {
    return WriteKeepingCaches(*rocks.batch(), rocks.keyspaces());
  }
  // One table file per keyspace and shard, all ingested at once: the
  // keyspaces take the commit whole or not at all, and once ingested it is
  // durable. A keyspace's files from several shards overlap in range (never
  // in keys) and land in level 0 side by side.
  rocksdb::Options options(rocksdb::DBOptions(), KeyspaceOptions(block_cache_));
  // Compaction compresses; the file is read little before it.
  options.compression = rocksdb::kNoCompression;
  // Each file is written on a thread of its own.
  std::vector<BulkRowBatch*> written;
  for (BulkRowBatch* rows : rocks.bulk()) {
    if (!rows->empty()) written.push_back(rows);
  }
  std::vector<std::string> files;
  std::vector<absl::Status> results(written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    files.push_back(absl::StrCat(bulk_directory_, "/",
                                 next_bulk_file_.fetch_add(1), ".sst"));
  }
  auto write_file = [&](size_t i) {
    const Keyspace& keyspace = written[i]->keyspace();
    rocksdb::Options file_options = options;
    // Filters hold the prefixes the keyspace's scans skip files by.
    file_options.prefix_extractor = keyspace.scan_prefixes();
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), file_options,
                                  keyspace.handle());
    absl::Status status =
        FromRocks(writer.Open(files[i]), "projection commit: table file");
    if (status.ok()) {
      status = written[i]->VisitSorted([&](const BulkRowBatch::Write& write) {
        return FromRocks(
            write.erase ? writer.Delete(ToSlice(write.key))
                        : writer.Put(ToSlice(write.key), ToSlice(write.value)),
            "projection commit: table file");
      });
    }
    if (status.ok()) {
      status = FromRocks(writer.Finish(), "projection commit: table file");
    }
    results[i] = status;
  };
  std::vector<std::thread> helpers;
  for (size_t i = 1; i < written.size(); ++i) {
    helpers.emplace_back([&write_file, &rocks, i] {
      eventstore::DisableRocksDbPerfCountersOnThisThread();
      if (rocks.writer_thread_started()) rocks.writer_thread_started()();
      write_file(i);
    });
  }
  if (!written.empty()) write_file(0);
  for (std::thread& helper : helpers) helper.join();
  absl::Status status;
  // One argument per keyspace: RocksDB takes each column family once.
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (size_t i = 0; i < written.size() && status.ok(); ++i) {
    status = results[i];
    auto same_keyspace = [&](const rocksdb::IngestExternalFileArg& arg) {
      return arg.column_family == written[i]->keyspace().handle();
    };
    auto arg = std::find_if(args.begin(), args.end(), same_keyspace);
    if (arg == args.end()) {
      arg = args.emplace(args.end());
      arg->column_family = written[i]->keyspace().handle();
      arg->options.move_files = true;
      arg->options.write_global_seqno = false;
    }
    arg->external_files.push_back(files[i]);
  }
  if (status.ok() && !args.empty()) {
    // The files write rows no cache hears of: the caches of their keyspaces
    // step aside until the ingestion is over, and forget every row then.
    std::vector<RowCache*> caches;
    for (const KeyspaceRef& keyspace : rocks.keyspaces()) {
      if (keyspace->row_cache() != nullptr) {
        caches.push_back(keyspace->row_cache());
      }
    }
    for (RowCache* cache : caches) cache->Suspend();
    status = FromRocks(db_->IngestExternalFiles(args), "projection commit");
    for (RowCache* cache : caches) cache->Resume();
  }
  for (const std::string& file : files) {
    std::error_code ignored;
    std::filesystem::remove(file, ignored);
  }
  return status;
}

absl::Status ProjectionDb::WriteKeepingCaches(
    rocksdb::WriteBatch& batch, const std::vector<KeyspaceRef>& keyspaces) {
  CachedWrites cached(keyspaces);
  if (cached.empty()) {
    return FromRocks(db_->Write(rocksdb::WriteOptions(), &batch),
                     "projection commit");
  }
  // The batch is ours: reading it back only fails on a damaged one, which
  // the write would refuse as well.
  RETURN_IF_ERROR(FromRocks(batch.Iterate(&cached), "projection commit"));
  cached.Begin();
  const rocksdb::Status status = db_->Write(rocksdb::WriteOptions(), &batch);
  // At or after the batch's own sequence number, which the write does not
  // return.
  cached.Finish(status.ok(), db_->GetLatestSequenceNumber());
  return FromRocks(status, "projection commit");
}

std::unique_ptr<ProjectionReader> ProjectionDb::NewReader() {
  return std::make_unique<RocksReader>(db_.get());
}

KeyspaceStats ProjectionDb::Stats(const Keyspace& keyspace) {
  KeyspaceStats stats;
  rocksdb::ColumnFamilyMetaData meta;
  db_->GetColumnFamilyMetaData(keyspace.handle_, &meta);
  stats.table_files = static_cast<int>(meta.file_count);
  for (const rocksdb::LevelMetaData& level : meta.levels) {
    stats.files_per_level.push_back(static_cast<int>(level.files.size()));
    if (level.level == 0) {
      stats.level0_files = static_cast<int>(level.files.size());
      stats.sorted_runs += stats.level0_files;
    } else if (!level.files.empty()) {
      ++stats.sorted_runs;
    }
  }
  stats.auto_compactions =
      !db_->GetOptions(keyspace.handle_).disable_auto_compactions;
  rocksdb::TablePropertiesCollection tables;
  if (db_->GetPropertiesOfAllTables(keyspace.handle_, &tables).ok()) {
    for (const auto& [file, properties] : tables) {
      stats.filter_bytes += properties->filter_size;
    }
  }
  return stats;
}

std::map<std::string, std::string> ProjectionDb::CatalogForTesting() {
  absl::MutexLock lock(&mu_);
  std::map<std::string, std::string> out;
  for (const auto& [name, entry] : catalog_) {
    if (entry.live != nullptr)
      out[absl::StrCat("live/", name)] = entry.live->id();
    if (entry.shadow != nullptr) {
      out[absl::StrCat("shadow/", name)] = entry.shadow->id();
    }
  }
  return out;
}

}  // namespace leadledger::projections
