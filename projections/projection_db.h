// ProjectionDb: the RocksDB database that holds every read model, apart from
// the event log so that projections can be dropped and rebuilt freely.
//
// Each projection's rows live in a keyspace (a column family) together with
// the projection's checkpoint: the log position of the last event folded
// into it. A catalog in the default column family says which keyspace of a
// projection serves queries (live) and which one a rebuild is filling
// (shadow); promoting a shadow is one write to the catalog, so readers see
// either the old rows or the new ones, never a mix. A keyspace no catalog
// entry names is dropped when the database opens.
//
// Writes are not fsync'd: the log is the truth, and a commit lost in a crash
// is folded again from the checkpoint that was committed with its rows.
// Bulk commits (rebuilds, a follower far behind the log) bypass the
// memtables: each is a sorted table file per keyspace (and shard of a
// sharded fold), ingested atomically.
//
// A shadow is not compacted while it is filled: each bulk commit's file
// spans the whole keyspace, so compacting as they arrive would rewrite the
// keyspace over and over. Its files pile up instead (up to a bound that
// keeps their memory in check, where they are merged once), and
// CompactShadow merges them into one sorted run before the shadow is
// promoted; from then on it is compacted as any live keyspace.
//
// Rows that queries read one key at a time can be kept in memory as
// committed (ProjectionDbOptions::cached_rows, see RowCache); readers get
// them from there when their snapshot holds the commit that wrote them.
//
// Thread-safe. Keyspace references must be released before the ProjectionDb
// is destroyed.
#ifndef LEADLEDGER_PROJECTIONS_PROJECTION_DB_H_
#define LEADLEDGER_PROJECTIONS_PROJECTION_DB_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "projections/projection.h"
#include "projections/row_cache.h"

namespace rocksdb {
class Cache;
class ColumnFamilyHandle;
class DB;
class SliceTransform;
class Snapshot;
class WriteBatch;
}  // namespace rocksdb

namespace leadledger::projections {

// One generation of one projection's rows.
class Keyspace {
 public:
  ~Keyspace();
  Keyspace(const Keyspace&) = delete;
  Keyspace& operator=(const Keyspace&) = delete;

  const std::string& projection() const { return projection_; }
  // The column family's name, "<projection>.<generation>".
  const std::string& id() const { return id_; }
  // Version of the fold that writes it.
  int version() const { return version_; }
  // For the store's implementation.
  rocksdb::ColumnFamilyHandle* handle() const { return handle_; }
  // The rows of it kept in memory (ProjectionDbOptions::cached_rows);
  // nullptr when none are.
  RowCache* row_cache() const { return row_cache_.get(); }
  // Whether `key` is one of the rows row_cache() keeps.
  bool Cached(absl::string_view key) const;
  // The prefixes its table files filter (ProjectionSpec::scan_prefix_length);
  // nullptr when they filter whole keys only.
  const std::shared_ptr<const rocksdb::SliceTransform>& scan_prefixes() const {
    return scan_prefixes_;
  }

 private:
  friend class ProjectionDb;
  Keyspace(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* handle,
           std::string projection, std::string id, int version,
           std::vector<std::string> cached_prefixes, size_t row_cache_bytes,
           std::shared_ptr<const rocksdb::SliceTransform> scan_prefixes)
      : db_(db),
        handle_(handle),
        projection_(std::move(projection)),
        id_(std::move(id)),
        version_(version),
        cached_prefixes_(std::move(cached_prefixes)),
        row_cache_(cached_prefixes_.empty()
                       ? nullptr
                       : std::make_unique<RowCache>(row_cache_bytes)),
        scan_prefixes_(std::move(scan_prefixes)) {}

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* handle_;
  std::string projection_;
  std::string id_;
  int version_;
  const std::vector<std::string> cached_prefixes_;
  const std::unique_ptr<RowCache> row_cache_;
  const std::shared_ptr<const rocksdb::SliceTransform> scan_prefixes_;
  // Whether its automatic compaction is off (a shadow being filled).
  mutable std::atomic<bool> compaction_deferred_{false};
};

using KeyspaceRef = std::shared_ptr<const Keyspace>;

enum class ScanOrder { kAscending, kDescending };

// A consistent view of every keyspace at one moment.
class ProjectionReader {
 public:
  virtual ~ProjectionReader() = default;

  [[nodiscard]] virtual absl::StatusOr<std::optional<std::string>> Get(
      const Keyspace& keyspace, absl::string_view key) = 0;

  // The values at `keys`, in their order (nullopt where there is none):
  // Get for each, in one pass over the store that shares the work of
  // finding their blocks.
  // Errors: UNAVAILABLE or DATA_LOSS when the store cannot be read.
  [[nodiscard]] virtual absl::StatusOr<std::vector<std::optional<std::string>>>
  MultiGet(const Keyspace& keyspace, absl::Span<const std::string> keys) = 0;

  // Calls `visit` for the keys in [lower, upper) in `order` until it returns
  // false. An empty `upper` means no upper bound.
  [[nodiscard]] virtual absl::Status Scan(
      const Keyspace& keyspace, absl::string_view lower,
      absl::string_view upper, ScanOrder order,
      const std::function<bool(absl::string_view key, absl::string_view value)>&
          visit) = 0;
};

enum class CommitMode {
  // Reads see the commit's own writes; the commit goes through the
  // write-ahead log.
  kNormal,
  // For folds whose reads never ask for what the same commit wrote, and
  // for commits of many rows: reads see only what earlier commits stored;
  // the writes of each keyspace (each shard's apart) are sorted into a
  // table file, and the files are ingested into the keyspaces in one step
  // (durable once written).
  kBulk,
};

// How a keyspace is stored; for tests and status pages.
struct KeyspaceStats {
  int table_files = 0;
  // Files in level 0, where flushes and overlapping ingestions land.
  int level0_files = 0;
  // Places a read may have to look: each level-0 file, and each other
  // level that holds files.
  int sorted_runs = 0;
  // Table files in each level, level 0 first.
  std::vector<int> files_per_level;
  // Whether RocksDB compacts it on its own (off while a shadow is filled).
  bool auto_compactions = false;
  // Bytes of the files' filters, which RocksDB holds in memory beside each
  // open file.
  uint64_t filter_bytes = 0;
};

// The writes of one commit, over any number of keyspaces.
class ProjectionCommit {
 public:
  virtual ~ProjectionCommit() = default;
  // The rows of `keyspace` as this commit sees them.
  RowBatch& Rows(const KeyspaceRef& keyspace) { return Rows(keyspace, 0); }
  // kBulk commits: the rows of `keyspace` that shard `shard` of a sharded
  // fold (ProjectionSpec::bulk_shards) writes, kept apart from the other
  // shards' so that each shard may write on a thread of its own, and
  // written as a table file of their own. The shards' writes must not share
  // a key. kNormal commits: Rows(keyspace), whatever the shard.
  virtual RowBatch& Rows(const KeyspaceRef& keyspace, int shard) = 0;
  // The rows of `keyspace` for a fold that never reads back what it wrote
  // in this commit (ProjectionSpec::bulk): its reads see the store as it was
  // before the commit, and its writes cost no index that would show them.
  // kNormal commits apply the writes made through Rows after those made
  // through UnindexedRows: a key is written through one of the two. kBulk
  // commits: Rows(keyspace, 0).
  virtual RowBatch& UnindexedRows(const KeyspaceRef& keyspace) = 0;
  // Makes `position` the checkpoint `keyspace` commits with.
  virtual void SetCheckpoint(const KeyspaceRef& keyspace,
                             uint64_t position) = 0;
};

struct ProjectionDbOptions {
  // By projection, the key prefixes of the rows that queries read one key
  // at a time; each keyspace of the projection keeps the last committed
  // value of those rows in a RowCache of `row_cache_bytes` (none when 0).
  std::map<std::string, std::vector<std::string>, std::less<>> cached_rows;
  size_t row_cache_bytes = 32 << 20;
  // By projection, the size of its keyspaces' memtables where it is not the
  // default.
  std::map<std::string, size_t, std::less<>> memtable_bytes;
  // By projection, its ProjectionSpec::append_run_length where it has one.
  std::map<std::string, std::function<size_t(absl::string_view)>, std::less<>>
      append_run_lengths;
  // By projection, its ProjectionSpec::scan_prefix_length where it has one.
  std::map<std::string, std::function<size_t(absl::string_view)>, std::less<>>
      scan_prefix_lengths;
};

// The options that `specs` ask for (ProjectionSpec::cached_rows,
// memtable_bytes, append_run_length and scan_prefix_length).
ProjectionDbOptions ProjectionDbOptionsFor(
    const std::vector<ProjectionSpec>& specs);

class ProjectionDb {
 public:
  // Opens (creating if missing) the database in directory `path`.
  // Errors: UNAVAILABLE when it cannot be opened (locked by another process,
  // I/O error); DATA_LOSS when its catalog is unreadable.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ProjectionDb>> Open(
      const std::string& path, ProjectionDbOptions options = {});
  ~ProjectionDb();

  // The keyspace serving `projection`; nullptr when it has none yet.
  KeyspaceRef Live(absl::string_view projection);
  // The keyspace a rebuild of `projection` is filling; nullptr when none.
  KeyspaceRef Shadow(absl::string_view projection);

  // Creates an empty live keyspace for a projection that has none.
  // Errors: FAILED_PRECONDITION when it has one; UNAVAILABLE on I/O errors.
  [[nodiscard]] absl::StatusOr<KeyspaceRef> CreateLive(
      absl::string_view projection, int version);
  // Creates an empty shadow keyspace, dropping any earlier shadow.
  [[nodiscard]] absl::StatusOr<KeyspaceRef> CreateShadow(
      absl::string_view projection, int version);
  // Merges every table file of the shadow of `projection` into one sorted
  // run in the last level (dropping overwritten rows and deletions), and
  // turns its automatic compaction on. A rebuild calls it before Promote, so
  // that the promoted keyspace serves queries from compacted files; the
  // writes it takes afterwards are compacted as in any live keyspace. Runs on
  // the calling thread (and helpers of its own); one call per shadow at a
  // time, not beside bulk commits to the same shadow.
  // Errors: FAILED_PRECONDITION when there is no shadow; UNAVAILABLE on I/O
  // errors (the shadow keeps its rows).
  [[nodiscard]] absl::Status CompactShadow(absl::string_view projection);
  // Makes the shadow the live keyspace in one catalog write and drops the
  // old live keyspace (readers holding it keep reading it until they let go).
  // A shadow not compacted by CompactShadow gets its automatic compaction
  // turned on here.
  // Errors: FAILED_PRECONDITION when there is no shadow; UNAVAILABLE on I/O
  // errors.
  [[nodiscard]] absl::Status Promote(absl::string_view projection);
  // Forgets and drops the shadow, if any.
  [[nodiscard]] absl::Status DropShadow(absl::string_view projection);

  // The checkpoint committed in `keyspace`: 0 before any commit.
  [[nodiscard]] absl::StatusOr<uint64_t> Checkpoint(const Keyspace& keyspace);

  // A kBulk commit writes its table files on threads of its own besides the
  // caller's; each calls `writer_thread_started`, if set, first.
  std::unique_ptr<ProjectionCommit> NewCommit(
      CommitMode mode = CommitMode::kNormal,
      std::function<void()> writer_thread_started = nullptr);
  // Writes `commit` atomically.
  // Errors: UNAVAILABLE on I/O errors (nothing of the commit is applied).
  [[nodiscard]] absl::Status Write(ProjectionCommit& commit);

  // A consistent view for queries; cheap.
  std::unique_ptr<ProjectionReader> NewReader();

  // Every live and shadow keyspace's id; for tests and status pages.
  std::map<std::string, std::string> CatalogForTesting();
  KeyspaceStats Stats(const Keyspace& keyspace);

 private:
  struct Entry {
    KeyspaceRef live;
    KeyspaceRef shadow;
  };

  ProjectionDb(std::unique_ptr<rocksdb::DB> db, std::string bulk_directory,
               std::shared_ptr<rocksdb::Cache> block_cache,
               ProjectionDbOptions options);
  // The Keyspace of an open column family.
  KeyspaceRef MakeKeyspace(rocksdb::ColumnFamilyHandle* handle,
                           std::string projection, std::string id,
                           int version) const;
  // Writes the batch of a kNormal commit to `keyspaces`, keeping their row
  // caches.
  absl::Status WriteKeepingCaches(rocksdb::WriteBatch& batch,
                                  const std::vector<KeyspaceRef>& keyspaces);
  absl::StatusOr<KeyspaceRef> NewKeyspace(absl::string_view projection,
                                          int version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status WriteCatalog(absl::string_view projection, const Entry& entry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Turns `keyspace`'s automatic compaction off (a shadow) or on.
  absl::Status DeferCompaction(const Keyspace& keyspace, bool defer);

  std::unique_ptr<rocksdb::DB> db_;
  // Where bulk commits write their table files.
  const std::string bulk_directory_;
  // Shared by every keyspace.
  const std::shared_ptr<rocksdb::Cache> block_cache_;
  const ProjectionDbOptions options_;
  std::atomic<uint64_t> next_bulk_file_{1};
  // Serializes catalog changes; reads of the map take it briefly.
  absl::Mutex mu_;
  std::map<std::string, Entry, std::less<>> catalog_ ABSL_GUARDED_BY(mu_);
  uint64_t next_generation_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_PROJECTION_DB_H_
