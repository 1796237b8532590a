// Projection: a read model folded from the event log.
//
// A projection owns one keyspace of the projection store and folds events
// into it through a RowBatch: the runner hands it the events after its
// checkpoint, in log order, and commits the rows it wrote together with the
// new checkpoint, atomically. A crash therefore never applies an event twice
// or skips one, and the fold needs no idempotence of its own.
//
// Keys a projection writes must not start with byte 0x00: that prefix is
// the store's own (the checkpoint lives there).
#ifndef LEADLEDGER_PROJECTIONS_PROJECTION_H_
#define LEADLEDGER_PROJECTIONS_PROJECTION_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "eventstore/event_store.h"
#include "projections/decoded_event.h"

namespace leadledger::projections {

// The rows of one keyspace as one commit sees them: reads return what the
// commit already wrote, else what is stored.
class RowBatch {
 public:
  virtual ~RowBatch() = default;

  // The value at `key`, or nullopt.
  // Errors: UNAVAILABLE or DATA_LOSS when the store cannot be read.
  [[nodiscard]] virtual absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) = 0;
  virtual void Put(absl::string_view key, absl::string_view value) = 0;
  virtual void Delete(absl::string_view key) = 0;
  // Put and Delete handing over the strings: a batch that keeps its writes
  // until the commit takes them without a copy.
  virtual void PutOwned(std::string key, std::string value) { Put(key, value); }
  virtual void DeleteOwned(std::string key) { Delete(key); }
  // Delete, for a key that one Put wrote since it was last deleted, and
  // that no Put will write again before this deletion: an index entry whose
  // key names the one thing it indexes. The store may then drop the pair
  // as soon as they meet, rather than keep a deletion marker that scans
  // step over until it reaches the last level.
  virtual void DeleteWrittenOnce(absl::string_view key) { Delete(key); }
  // A hint: about `writes` more writes follow at once. A batch that keeps
  // its writes until the commit makes room for them in one step, rather
  // than grow (and copy) its store of them several times over.
  virtual void Reserve(size_t writes) { (void)writes; }
  // Calls `visit` for every key starting with `prefix`, in key order, as
  // the commit sees them, until it returns false.
  [[nodiscard]] virtual absl::Status ScanPrefix(
      absl::string_view prefix,
      const std::function<bool(absl::string_view key, absl::string_view value)>&
          visit) = 0;
};

// One instance folds one keyspace; the runner creates a fresh instance for a
// rebuild. Instances may keep state between Apply and Flush (a cache of the
// rows a commit touches), never across commits. A commit may hold any number
// of events: bulk folds (see ProjectionSpec::bulk) commit tens of thousands
// at once.
class Projection {
 public:
  virtual ~Projection() = default;

  // Whether events of `type` change this projection; others are skipped
  // (their positions still advance the checkpoint).
  virtual bool Wants(absl::string_view type) const = 0;

  // Folds `event` into `rows`.
  // Errors: DATA_LOSS or FAILED_PRECONDITION when the event cannot be
  // decoded; the runner then stops this projection at that event and
  // reports why, rather than skip what it cannot read.
  [[nodiscard]] virtual absl::Status Apply(
      const eventstore::RecordedEvent& event, RowBatch& rows) = 0;

  // Apply, for an event the runner decoded once for every projection; the
  // same contract. The default ignores the decoded form.
  [[nodiscard]] virtual absl::Status ApplyDecoded(const DecodedEvent& event,
                                                  RowBatch& rows) {
    return Apply(event.recorded(), rows);
  }

  // Writes what Apply kept in memory; called once before each commit.
  [[nodiscard]] virtual absl::Status Flush(RowBatch& rows) {
    (void)rows;
    return absl::OkStatus();
  }
};

// What the runner knows of a projection.
struct ProjectionSpec {
  // Stable name, [a-z_]+; also the prefix of its keyspaces.
  std::string name;
  // Version of the fold. A stored keyspace of another version is rebuilt.
  int version = 1;
  // Whether an operator may rebuild it. False for process managers whose
  // folds have effects outside the store (the scheduler).
  bool rebuildable = true;
  // Whether the fold never reads back, through the RowBatch, a key it wrote
  // in the same commit (it keeps what it needs in memory until Flush). The
  // runner then folds it in bulk when far behind the log or rebuilding:
  // large commits written as table files (CommitMode::kBulk), and the
  // instance's Apply and Flush on a thread of their own, beside the other
  // projections' (one thread at a time per instance). Its other commits
  // skip the index that shows a fold its own writes
  // (ProjectionCommit::UnindexedRows).
  bool bulk = false;
  // Bulk folds only: how many instances fold each bulk commit side by side,
  // each the events of its share of the streams (split by a hash of the
  // stream name), on a thread and into a table file of its own. More than
  // one requires a fold in which a stream's events read and write only rows
  // that no other stream's events touch (rows keyed by the stream).
  int bulk_shards = 1;
  // Key prefixes of the rows that queries read one key at a time (a lead's
  // row, not its index entries): the store keeps the last committed value
  // of each in memory (see RowCache).
  std::vector<std::string> cached_rows;
  // The size of its keyspaces' memtables; 0 for the store's default. A
  // small one suits rows that come and go (an agenda is a queue): deletions
  // meet the writes they undo (DeleteWrittenOnce) when the memtable is
  // flushed, instead of piling up in it in front of every scan.
  size_t memtable_bytes = 0;
  // For keys mostly written at the end of a run of keys that share their
  // first bytes (index entries ordered by the position that made them): how
  // many first bytes name the run, or 0 for a key written anywhere. A
  // memtable keeps where it last wrote in each run and starts the next
  // write of the run there, instead of searching from the top of its
  // skip list. Each run a memtable meets takes about 250 bytes of it: a
  // key alone in its run (a unique value) is better written anywhere.
  // Unset: every key is written anywhere.
  std::function<size_t(absl::string_view key)> append_run_length;
  // For keys a fold scans by a prefix that names one stream's rows (an
  // agenda's tasks of a lead): how many first bytes form that prefix, or 0
  // for keys no such scan reads. The keyspace's table files then filter
  // those prefixes as well as whole keys, and a scan of one prefix skips the
  // files that hold none of its keys rather than search each: a rebuild's
  // shadow piles up over a hundred files before they are compacted.
  std::function<size_t(absl::string_view key)> scan_prefix_length;
  std::function<std::unique_ptr<Projection>()> make;
};

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_PROJECTION_H_
