#include "projections/projection_db.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "domain/status_macros.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/write_batch_with_index.h"

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

rocksdb::ColumnFamilyOptions KeyspaceOptions() {
  rocksdb::ColumnFamilyOptions options;
  options.write_buffer_size = 32 << 20;
  options.max_write_buffer_number = 3;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_size = 16 * 1024;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
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

class RocksRowBatch final : public RowBatch {
 public:
  RocksRowBatch(rocksdb::DB* db, rocksdb::WriteBatchWithIndex* batch,
                rocksdb::ColumnFamilyHandle* handle)
      : db_(db), batch_(batch), handle_(handle) {}

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override {
    std::string value;
    rocksdb::Status status = batch_->GetFromBatchAndDB(
        db_, rocksdb::ReadOptions(), handle_, ToSlice(key), &value);
    if (status.IsNotFound()) return std::nullopt;
    RETURN_IF_ERROR(FromRocks(status, "projection read"));
    return value;
  }

  void Put(absl::string_view key, absl::string_view value) override {
    // A WriteBatchWithIndex only fails on a bad column family, which the
    // handle rules out.
    (void)batch_->Put(handle_, ToSlice(key), ToSlice(value));
  }

  void Delete(absl::string_view key) override {
    (void)batch_->Delete(handle_, ToSlice(key));
  }

  absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      override {
    std::unique_ptr<rocksdb::Iterator> base(
        db_->NewIterator(rocksdb::ReadOptions(), handle_));
    std::unique_ptr<rocksdb::Iterator> it(
        batch_->NewIteratorWithBase(handle_, base.release()));
    for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
      absl::string_view key = ToView(it->key());
      if (key.substr(0, prefix.size()) != prefix) break;
      if (!visit(key, ToView(it->value()))) break;
    }
    return FromRocks(it->status(), "projection scan");
  }

 private:
  rocksdb::DB* db_;
  rocksdb::WriteBatchWithIndex* batch_;
  rocksdb::ColumnFamilyHandle* handle_;
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

  BulkRowBatch(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* handle)
      : db_(db), handle_(handle) {}

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) override {
    std::string value;
    rocksdb::Status status =
        db_->Get(rocksdb::ReadOptions(), handle_, ToSlice(key), &value);
    if (status.IsNotFound()) return std::nullopt;
    RETURN_IF_ERROR(FromRocks(status, "projection read"));
    return value;
  }

  void Put(absl::string_view key, absl::string_view value) override {
    writes_.push_back(Write{std::string(key), std::string(value), false});
  }

  void Delete(absl::string_view key) override {
    writes_.push_back(Write{std::string(key), std::string(), true});
  }

  absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      override {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), handle_));
    for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
      absl::string_view key = ToView(it->key());
      if (key.substr(0, prefix.size()) != prefix) break;
      if (!visit(key, ToView(it->value()))) break;
    }
    return FromRocks(it->status(), "projection scan");
  }

  rocksdb::ColumnFamilyHandle* handle() const { return handle_; }

  // The writes in key order, each key once with its last write; leaves none.
  std::vector<Write> TakeSorted() {
    auto by_key = [](const Write& a, const Write& b) { return a.key < b.key; };
    // Folds mostly write in key order already (SortedWrites).
    if (!std::is_sorted(writes_.begin(), writes_.end(), by_key)) {
      std::stable_sort(writes_.begin(), writes_.end(), by_key);
    }
    std::vector<Write> out;
    out.reserve(writes_.size());
    for (Write& write : writes_) {
      if (!out.empty() && out.back().key == write.key) {
        out.back() = std::move(write);
      } else {
        out.push_back(std::move(write));
      }
    }
    writes_.clear();
    return out;
  }

 private:
  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* handle_;
  std::vector<Write> writes_;
};

class RocksCommit final : public ProjectionCommit {
 public:
  RocksCommit(rocksdb::DB* db, CommitMode mode)
      : db_(db),
        mode_(mode),
        indexed_(rocksdb::BytewiseComparator(), 0, true) {}

  RowBatch& Rows(const KeyspaceRef& keyspace) override {
    auto [it, inserted] = rows_.try_emplace(keyspace.get(), nullptr);
    if (inserted) {
      keep_.push_back(keyspace);
      if (mode_ == CommitMode::kBulk) {
        auto rows = std::make_unique<BulkRowBatch>(db_, keyspace->handle());
        bulk_.push_back(rows.get());
        it->second = std::move(rows);
      } else {
        it->second =
            std::make_unique<RocksRowBatch>(db_, &indexed_, keyspace->handle());
      }
    }
    return *it->second;
  }

  void SetCheckpoint(const KeyspaceRef& keyspace, uint64_t position) override {
    Rows(keyspace).Put(kCheckpointKey, EncodeBigEndian(position));
  }

  CommitMode mode() const { return mode_; }
  // kNormal commits: the batch to write.
  rocksdb::WriteBatch* batch() { return indexed_.GetWriteBatch(); }
  // kBulk commits: the rows of each keyspace written.
  const std::vector<BulkRowBatch*>& bulk() const { return bulk_; }

 private:
  rocksdb::DB* db_;
  const CommitMode mode_;
  // kNormal commits index their writes so that reads see them.
  rocksdb::WriteBatchWithIndex indexed_;
  std::map<const Keyspace*, std::unique_ptr<RowBatch>> rows_;
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
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    std::string value;
    rocksdb::Status status =
        db_->Get(options, keyspace.handle(), ToSlice(key), &value);
    if (status.IsNotFound()) return std::nullopt;
    RETURN_IF_ERROR(FromRocks(status, "projection read"));
    return value;
  }

  absl::Status Scan(
      const Keyspace& keyspace, absl::string_view lower,
      absl::string_view upper, ScanOrder order,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      override {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
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
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
};

}  // namespace

Keyspace::~Keyspace() { (void)db_->DestroyColumnFamilyHandle(handle_); }

absl::StatusOr<std::unique_ptr<ProjectionDb>> ProjectionDb::Open(
    const std::string& path) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;

  std::vector<std::string> families;
  rocksdb::Status listed =
      rocksdb::DB::ListColumnFamilies(db_options, path, &families);
  if (!listed.ok()) families = {rocksdb::kDefaultColumnFamilyName};

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& family : families) {
    descriptors.emplace_back(family, family == rocksdb::kDefaultColumnFamilyName
                                         ? rocksdb::ColumnFamilyOptions()
                                         : KeyspaceOptions());
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
      new ProjectionDb(std::unique_ptr<rocksdb::DB>(raw), bulk_directory));

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
    auto keyspace = std::shared_ptr<const Keyspace>(new Keyspace(
        raw, handle->second, projection, parsed->id, parsed->version));
    by_name.erase(handle);
    Entry& entry = db->catalog_[projection];
    (live ? entry.live : entry.shadow) = std::move(keyspace);
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "projection catalog"));
  RETURN_IF_ERROR(catalog_status);
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
                           std::string bulk_directory)
    : db_(std::move(db)), bulk_directory_(std::move(bulk_directory)) {}

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
  RETURN_IF_ERROR(
      FromRocks(db_->CreateColumnFamily(KeyspaceOptions(), id, &handle),
                absl::StrCat("create keyspace ", id)));
  return std::shared_ptr<const Keyspace>(
      new Keyspace(db_.get(), handle, std::string(projection), id, version));
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
  RETURN_IF_ERROR(WriteCatalog(projection, entry));
  it->second = entry;
  if (previous != nullptr) {
    RETURN_IF_ERROR(FromRocks(db_->DropColumnFamily(previous->handle_),
                              absl::StrCat("drop keyspace ", previous->id())));
  }
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

std::unique_ptr<ProjectionCommit> ProjectionDb::NewCommit(CommitMode mode) {
  return std::make_unique<RocksCommit>(db_.get(), mode);
}

absl::Status ProjectionDb::Write(ProjectionCommit& commit) {
  auto& rocks = static_cast<RocksCommit&>(commit);
  if (rocks.mode() == CommitMode::kNormal) {
    return FromRocks(db_->Write(rocksdb::WriteOptions(), rocks.batch()),
                     "projection commit");
  }
  // One table file per keyspace, all ingested at once: the keyspaces take
  // the commit whole or not at all, and once ingested it is durable.
  rocksdb::Options options(rocksdb::DBOptions(), KeyspaceOptions());
  // Compaction compresses; the file is read little before it.
  options.compression = rocksdb::kNoCompression;
  std::vector<rocksdb::IngestExternalFileArg> args;
  std::vector<std::string> files;
  absl::Status status;
  for (BulkRowBatch* rows : rocks.bulk()) {
    std::vector<BulkRowBatch::Write> writes = rows->TakeSorted();
    if (writes.empty()) continue;
    std::string file = absl::StrCat(bulk_directory_, "/",
                                    next_bulk_file_.fetch_add(1), ".sst");
    files.push_back(file);
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options,
                                  rows->handle());
    rocksdb::Status written = writer.Open(file);
    for (const BulkRowBatch::Write& write : writes) {
      if (!written.ok()) break;
      written = write.erase
                    ? writer.Delete(ToSlice(write.key))
                    : writer.Put(ToSlice(write.key), ToSlice(write.value));
    }
    if (written.ok()) written = writer.Finish();
    status = FromRocks(written, "projection commit: table file");
    if (!status.ok()) break;
    rocksdb::IngestExternalFileArg arg;
    arg.column_family = rows->handle();
    arg.external_files = {file};
    arg.options.move_files = true;
    arg.options.write_global_seqno = false;
    args.push_back(std::move(arg));
  }
  if (status.ok() && !args.empty()) {
    status = FromRocks(db_->IngestExternalFiles(args), "projection commit");
  }
  for (const std::string& file : files) {
    std::error_code ignored;
    std::filesystem::remove(file, ignored);
  }
  return status;
}

std::unique_ptr<ProjectionReader> ProjectionDb::NewReader() {
  return std::make_unique<RocksReader>(db_.get());
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
