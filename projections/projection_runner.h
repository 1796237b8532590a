// ProjectionRunner: keeps projections folded up to the head of the log, and
// rebuilds them online.
//
// Following: one thread subscribes to the log from the lowest checkpoint and
// folds each batch of events into every projection, committing all their
// rows and new checkpoints in one write. Projections never see an event twice
// or miss one, whatever the crashes.
//
// Catching up: projections whose spec allows it (ProjectionSpec::bulk) and
// that lag far behind the log (a first fold, a restart after a long stop)
// are folded in bulk first: events read and decoded ahead on a second
// thread, and commits of tens of thousands of events written as table files
// (CommitMode::kBulk).
//
// Rebuilding: a caller's thread folds the whole log into fresh shadow
// keyspaces while the live ones keep serving (in bulk where the spec allows
// it), compacts each shadow once (ProjectionDb::CompactShadow), then takes
// the follower's lock, folds the last events, and promotes each shadow in
// one catalog write. A rebuild that stops (cancelled, crashed) leaves the
// live keyspace serving; the next rebuild of the same version resumes from
// the shadow's checkpoint. A projection whose stored version is not the
// code's is rebuilt when the runner starts.
//
// Thread-safe.
#ifndef LEADLEDGER_PROJECTIONS_PROJECTION_RUNNER_H_
#define LEADLEDGER_PROJECTIONS_PROJECTION_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "eventstore/event_store.h"
#include "projections/log_prefetcher.h"
#include "projections/projection.h"
#include "projections/projection_db.h"

namespace leadledger::projections {

// How far a rebuild has come.
struct RebuildProgress {
  // Events of the log folded so far, and the head it is catching up with.
  uint64_t events_done = 0;
  uint64_t head_position = 0;
  double events_per_second = 0;
  // Time left at the current rate; zero once caught up.
  absl::Duration eta;
  // Set on the last report, once every shadow serves.
  bool promoted = false;
};

struct ProjectionStatus {
  std::string name;
  int version = 0;
  // The keyspace serving queries, and the log position folded into it.
  std::string keyspace;
  uint64_t checkpoint = 0;
  uint64_t head_position = 0;
  // head_position - checkpoint.
  uint64_t lag = 0;
  // Why the projection stopped folding, when it did (an event it cannot
  // read); OK while it follows the log.
  absl::Status error;
  // Set while a rebuild runs.
  std::optional<RebuildProgress> rebuild;
  // What the serving keyspace's RowCache did and holds; nullopt when the
  // projection keeps no rows in memory.
  std::optional<CacheStats> row_cache;
};

struct BulkFoldHooks {
  // Called with true when the runner starts folding in bulk (a rebuild, a
  // catch-up) and with false once no bulk fold runs any more, never twice
  // in a row with the same value.
  std::function<void(bool folding)> folding;
  // Called first on every thread that works for a bulk fold: the thread
  // that runs it, the threads that fold each commit, the one that reads the
  // log ahead and those that write the commit's table files.
  std::function<void()> thread_started;
};

struct ProjectionRunnerOptions {
  // Longest wait for new events before the follower looks at its state
  // again (stop requests, retries).
  absl::Duration poll_interval = absl::Milliseconds(200);
  // Events read per step of a rebuild.
  int rebuild_batch_events = 4096;
  // How often a rebuild reports progress.
  absl::Duration progress_interval = absl::Milliseconds(500);
  // Bulk folds: events per commit (the memory a fold keeps between commits
  // grows with it), and how many events the follower must lag behind the
  // head to catch up in bulk.
  int bulk_commit_events = 32768;
  uint64_t bulk_lag_events = 20000;
  // What the process does around bulk folds, which allocate and free tens
  // of MiB per commit on threads started for each commit: it may tune its
  // allocator for them while they last (see services/allocator_tuning.h).
  BulkFoldHooks bulk_fold_hooks;
};

class ProjectionRunner {
 public:
  // `store` and `db` must outlive the runner. Names must be distinct.
  ProjectionRunner(eventstore::EventStore* store, ProjectionDb* db,
                   std::vector<ProjectionSpec> specs,
                   ProjectionRunnerOptions options = {});
  // Stops (see Stop).
  ~ProjectionRunner();

  // Opens or creates every projection's keyspace and starts following the
  // log; starts a background rebuild of projections stored at another
  // version or left with an unfinished rebuild.
  // Errors: those of the projection store.
  [[nodiscard]] absl::Status Start();

  // Stops following and cancels a rebuild in progress. Idempotent.
  void Stop();

  // Waits until each projection of `names` (every projection when empty)
  // has folded the event at `position`.
  // Errors: DEADLINE_EXCEEDED naming the position and how far the slowest
  // projection got; NOT_FOUND for an unknown name; UNAVAILABLE when a
  // projection has stopped on an error or the runner is stopping.
  [[nodiscard]] absl::Status WaitUntilFolded(
      absl::Span<const std::string> names, uint64_t position,
      absl::Time deadline);

  // The log position folded into projection `name` (0 for an unknown one).
  uint64_t Checkpoint(absl::string_view name);

  std::vector<ProjectionStatus> Status();

  // Rebuilds the projections `names` (every rebuildable one when empty) in
  // one pass over the log, calling `progress` every progress_interval and
  // once at the end; `cancelled` is polled between steps.
  // Errors: NOT_FOUND for an unknown name; FAILED_PRECONDITION for a
  // projection that cannot be rebuilt or is being rebuilt already;
  // CANCELLED when `cancelled` said so or the runner stopped (the shadow is
  // kept and the next rebuild resumes it); the errors of the store, and of
  // folding an event.
  [[nodiscard]] absl::Status Rebuild(
      std::vector<std::string> names,
      const std::function<void(const RebuildProgress&)>& progress,
      const std::function<bool()>& cancelled);

  // Calls `listener` after every commit of the follower (from its thread);
  // for timers that watch a read model. Must be added before Start.
  void AddCommitListener(std::function<void()> listener);

 private:
  // Everything about one projection. `spec` never changes; the fields the
  // follower uses change under fold_mu_; status fields under mu_.
  struct State {
    ProjectionSpec spec;
    KeyspaceRef keyspace ABSL_GUARDED_BY(fold_mu_);
    std::unique_ptr<Projection> instance ABSL_GUARDED_BY(fold_mu_);
    uint64_t checkpoint ABSL_GUARDED_BY(mu_) = 0;
    absl::Status error ABSL_GUARDED_BY(mu_);
    bool rebuilding ABSL_GUARDED_BY(mu_) = false;
    std::optional<RebuildProgress> progress ABSL_GUARDED_BY(mu_);
    // A bulk catch-up failed on the event at this position: the follower
    // folds the projection batch by batch until past it (and stops it there
    // with the error, as for any fold).
    uint64_t bulk_failed_at ABSL_GUARDED_BY(fold_mu_) = 0;
  };

  // A keyspace a bulk fold fills (one shard of it), and how far.
  struct BulkTarget {
    State* state = nullptr;
    KeyspaceRef keyspace;
    // This target folds the events of the streams of shard `shard` of
    // state->spec.bulk_shards.
    int shard = 0;
    std::unique_ptr<Projection> instance;
    // The position committed, and the one folded into `instance` (written
    // by the next commit).
    uint64_t checkpoint = 0;
    uint64_t folded = 0;
    // The event its fold failed on, or 0.
    uint64_t failed_at = 0;
  };

  // Folds the events `prefetcher` reads into `targets`, each from its own
  // checkpoint, in kBulk commits of about bulk_commit_events events, until a
  // read finds nothing new. `interval_lock` (when not null) is held from the
  // start of each commit's folding to its write, and `begin_interval` runs
  // under it first; `committed` runs after each write.
  // Errors: CANCELLED when `cancelled` said so (after committing what was
  // folded); the store's (nothing of the interval is written); those of an
  // event a target cannot fold, naming the projection and the position, with
  // that target's failed_at set (nothing of the interval is written).
  absl::Status FoldInBulk(LogPrefetcher& prefetcher,
                          std::vector<BulkTarget>& targets,
                          absl::Mutex* interval_lock,
                          const std::function<void()>& begin_interval,
                          const std::function<void()>& committed,
                          const std::function<bool()>& cancelled);
  // Appends to `targets` one target per shard of `state`'s bulk fold.
  static void AddBulkTargets(State* state, KeyspaceRef keyspace,
                             uint64_t checkpoint,
                             std::vector<BulkTarget>& targets);
  // Folds in bulk the bulk projections of the follower that lag more than
  // bulk_lag_events behind the head, up to it.
  void CatchUpInBulk();
  // Whether CatchUpInBulk has something to do.
  bool LagsForBulk();
  // Whether the follower folds `state` in bulk with the log at `head`.
  bool FoldsInBulk(const State& state, uint64_t head)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fold_mu_, mu_);

  void Follow();
  // Folds `events` into every healthy projection and commits; marks a
  // projection whose fold fails as stopped and folds the rest again.
  absl::Status FoldBatch(const std::vector<eventstore::RecordedEvent>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(fold_mu_);
  uint64_t LowestHealthyCheckpoint();
  absl::StatusOr<std::vector<State*>> Select(
      absl::Span<const std::string> names, bool for_rebuild);
  absl::Status RebuildSelected(
      const std::vector<State*>& states,
      const std::function<void(const RebuildProgress&)>& progress,
      const std::function<bool()>& cancelled);
  void RebuildInBackground(std::vector<std::string> names);
  // Count the bulk folds running, calling options_.bulk_fold_hooks.folding
  // when the first starts and the last ends. The calling thread runs the
  // fold: BulkFoldStarted calls bulk_fold_hooks.thread_started on it.
  void BulkFoldStarted();
  void BulkFoldEnded();

  eventstore::EventStore* const store_;
  ProjectionDb* const db_;
  const ProjectionRunnerOptions options_;
  std::map<std::string, std::unique_ptr<State>, std::less<>> states_;
  std::vector<std::function<void()>> listeners_;

  // Held by the follower while it folds and commits a batch, and by a
  // rebuild while it switches keyspaces.
  absl::Mutex fold_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> stop_requested_{false};
  std::unique_ptr<eventstore::Subscription> subscription_ ABSL_GUARDED_BY(mu_);
  std::thread follower_;
  std::thread background_rebuild_;
  // Held while the hook runs, so that its calls keep the order of the
  // counts.
  absl::Mutex bulk_folds_mu_;
  int bulk_folds_ ABSL_GUARDED_BY(bulk_folds_mu_) = 0;
};

}  // namespace leadledger::projections

#endif  // LEADLEDGER_PROJECTIONS_PROJECTION_RUNNER_H_
