#include "projections/projection_runner.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <thread>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "domain/status_macros.h"
#include "eventstore/rocksdb_thread.h"

namespace leadledger::projections {
namespace {

// Chunks of events a bulk fold reads ahead.
constexpr int kPrefetchChunks = 4;

// The shard of a sharded fold (ProjectionSpec::bulk_shards) that folds the
// events of `stream`.
int ShardOf(absl::string_view stream, int shards) {
  return static_cast<int>(absl::HashOf(stream) % static_cast<size_t>(shards));
}

// The rows a fold of `spec` writes to `keyspace` in a kNormal commit. A
// fold that never reads back its own writes (a bulk fold) spares the commit
// the index of them.
RowBatch& RowsOf(ProjectionCommit& commit, const ProjectionSpec& spec,
                 const KeyspaceRef& keyspace) {
  return spec.bulk ? commit.UnindexedRows(keyspace) : commit.Rows(keyspace);
}

// Calls `run` with 0 to n - 1, each on a thread of its own but 0 (on this
// one); returns once every call has.
void InParallel(size_t n, const std::function<void(size_t)>& run) {
  std::vector<std::thread> helpers;
  for (size_t i = 1; i < n; ++i) {
    helpers.emplace_back([&run, i] {
      eventstore::DisableRocksDbPerfCountersOnThisThread();
      run(i);
    });
  }
  if (n > 0) run(0);
  for (std::thread& helper : helpers) helper.join();
}

// The chunks of one bulk commit, read once and folded by every target on a
// thread of its own, each at its own pace: a quick fold runs ahead instead
// of waiting for the slowest at every chunk, and flushes while the slowest
// still folds. A chunk is freed once every target is past it.
class ChunkFeed {
 public:
  explicit ChunkFeed(size_t readers) : readers_(readers) {}

  void Push(std::unique_ptr<EventChunk> chunk) {
    absl::MutexLock lock(&mu_);
    chunks_.push_back(std::move(chunk));
    unread_.push_back(readers_);
  }

  // No chunk follows the ones pushed.
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }

  // The k-th chunk, once pushed; null when the feed closed before it.
  const EventChunk* Wait(size_t k) {
    absl::MutexLock lock(&mu_);
    auto ready = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return k < chunks_.size() || closed_;
    };
    mu_.Await(absl::Condition(&ready));
    return k < chunks_.size() ? chunks_[k].get() : nullptr;
  }

  // A reader is done with the k-th chunk.
  void Release(size_t k) {
    absl::MutexLock lock(&mu_);
    if (--unread_[k] == 0) chunks_[k].reset();
  }

 private:
  const size_t readers_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<EventChunk>> chunks_ ABSL_GUARDED_BY(mu_);
  // Readers not yet done with each chunk.
  std::vector<size_t> unread_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// The lowest checkpoint of `shadows`.
template <typename Shadows>
uint64_t MinCheckpoint(const Shadows& shadows) {
  uint64_t lowest = std::numeric_limits<uint64_t>::max();
  for (const auto& shadow : shadows) {
    lowest = std::min(lowest, shadow.checkpoint);
  }
  return lowest;
}

}  // namespace

ProjectionRunner::ProjectionRunner(eventstore::EventStore* store,
                                   ProjectionDb* db,
                                   std::vector<ProjectionSpec> specs,
                                   ProjectionRunnerOptions options)
    : store_(store), db_(db), options_(options) {
  for (ProjectionSpec& spec : specs) {
    auto state = std::make_unique<State>();
    std::string name = spec.name;
    state->spec = std::move(spec);
    states_.emplace(std::move(name), std::move(state));
  }
}

ProjectionRunner::~ProjectionRunner() { Stop(); }

void ProjectionRunner::BulkFoldStarted() {
  {
    absl::MutexLock lock(&bulk_folds_mu_);
    if (bulk_folds_++ == 0 && options_.bulk_fold_hooks.folding) {
      options_.bulk_fold_hooks.folding(true);
    }
  }
  if (options_.bulk_fold_hooks.thread_started) {
    options_.bulk_fold_hooks.thread_started();
  }
}

void ProjectionRunner::BulkFoldEnded() {
  absl::MutexLock lock(&bulk_folds_mu_);
  if (--bulk_folds_ == 0 && options_.bulk_fold_hooks.folding) {
    options_.bulk_fold_hooks.folding(false);
  }
}

void ProjectionRunner::AddCommitListener(std::function<void()> listener) {
  listeners_.push_back(std::move(listener));
}

absl::Status ProjectionRunner::Start() {
  std::vector<std::string> to_rebuild;
  {
    absl::MutexLock fold(&fold_mu_);
    for (auto& [name, state] : states_) {
      KeyspaceRef live = db_->Live(name);
      if (live == nullptr) {
        ASSIGN_OR_RETURN(live, db_->CreateLive(name, state->spec.version));
      }
      ASSIGN_OR_RETURN(uint64_t checkpoint, db_->Checkpoint(*live));
      const bool stale = live->version() != state->spec.version;
      KeyspaceRef shadow = db_->Shadow(name);
      if (state->spec.rebuildable &&
          (stale ||
           (shadow != nullptr && shadow->version() == state->spec.version))) {
        to_rebuild.push_back(name);
      }
      state->keyspace = std::move(live);
      state->instance = state->spec.make();
      absl::MutexLock lock(&mu_);
      state->checkpoint = checkpoint;
    }
  }
  follower_ = std::thread([this] { Follow(); });
  if (!to_rebuild.empty()) {
    background_rebuild_ =
        std::thread([this, names = std::move(to_rebuild)]() mutable {
          RebuildInBackground(std::move(names));
        });
  }
  return absl::OkStatus();
}

void ProjectionRunner::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    if (subscription_ != nullptr) subscription_->Cancel();
  }
  stop_requested_ = true;
  if (follower_.joinable()) follower_.join();
  if (background_rebuild_.joinable()) background_rebuild_.join();
}

void ProjectionRunner::RebuildInBackground(std::vector<std::string> names) {
  eventstore::DisableRocksDbPerfCountersOnThisThread();
  absl::Status status = Rebuild(
      std::move(names), [](const RebuildProgress&) {},
      [this] { return stop_requested_.load(); });
  if (!status.ok() && !absl::IsCancelled(status)) {
    // The live keyspaces keep serving; the status page shows the failure.
    absl::MutexLock lock(&mu_);
    for (auto& [name, state] : states_) {
      if (state->error.ok() && db_->Shadow(name) != nullptr) {
        state->error = absl::UnavailableError(
            absl::StrCat("rebuild on start failed: ", status.message()));
      }
    }
  }
}

uint64_t ProjectionRunner::LowestHealthyCheckpoint() {
  absl::MutexLock lock(&mu_);
  uint64_t lowest = std::numeric_limits<uint64_t>::max();
  for (const auto& [name, state] : states_) {
    if (state->error.ok()) lowest = std::min(lowest, state->checkpoint);
  }
  return lowest == std::numeric_limits<uint64_t>::max() ? store_->HeadPosition()
                                                        : lowest;
}

void ProjectionRunner::Follow() {
  eventstore::DisableRocksDbPerfCountersOnThisThread();
  while (!stop_requested_) {
    CatchUpInBulk();
    if (stop_requested_) return;
    absl::StatusOr<std::unique_ptr<eventstore::Subscription>> subscribed =
        store_->SubscribeAll({.from_position = LowestHealthyCheckpoint() + 1});
    if (!subscribed.ok()) {
      absl::SleepFor(options_.poll_interval);
      continue;
    }
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      subscription_ = std::move(*subscribed);
    }
    eventstore::Subscription* subscription = nullptr;
    {
      absl::MutexLock lock(&mu_);
      subscription = subscription_.get();
    }
    while (!stop_requested_) {
      absl::StatusOr<std::vector<eventstore::RecordedEvent>> events =
          subscription->Next(absl::Now() + options_.poll_interval);
      if (!events.ok()) break;  // cancelled or unreadable: subscribe again
      if (events->empty()) continue;
      absl::Status folded;
      {
        absl::MutexLock fold(&fold_mu_);
        folded = FoldBatch(*events);
      }
      if (!folded.ok()) {
        // The commit failed: nothing of it was applied. Start over from the
        // checkpoints after a pause rather than spin on a broken disk.
        absl::SleepFor(options_.poll_interval);
        break;
      }
      for (const std::function<void()>& listener : listeners_) listener();
      // Fallen far behind (a burst of appends): catch up in bulk.
      if (LagsForBulk()) break;
    }
    absl::MutexLock lock(&mu_);
    subscription_.reset();
  }
}

bool ProjectionRunner::LagsForBulk() {
  const uint64_t head = store_->HeadPosition();
  absl::MutexLock fold(&fold_mu_);
  absl::MutexLock lock(&mu_);
  for (auto& [name, state] : states_) {
    if (FoldsInBulk(*state, head)) return true;
  }
  return false;
}

bool ProjectionRunner::FoldsInBulk(const State& state, uint64_t head) {
  return state.spec.bulk && state.error.ok() &&
         state.checkpoint >= state.bulk_failed_at && head > state.checkpoint &&
         head - state.checkpoint > options_.bulk_lag_events;
}

void ProjectionRunner::CatchUpInBulk() {
  std::vector<BulkTarget> targets;
  {
    const uint64_t head = store_->HeadPosition();
    absl::MutexLock fold(&fold_mu_);
    absl::MutexLock lock(&mu_);
    for (auto& [name, state] : states_) {
      if (FoldsInBulk(*state, head)) {
        AddBulkTargets(state.get(), state->keyspace, state->checkpoint,
                       targets);
      }
    }
  }
  if (targets.empty()) return;
  uint64_t from = std::numeric_limits<uint64_t>::max();
  for (const BulkTarget& target : targets) {
    from = std::min(from, target.checkpoint + 1);
  }
  // Runs under fold_mu_ before each commit's folding: a rebuild may have
  // replaced a keyspace since, and a projection may have stopped.
  auto begin_interval = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(fold_mu_) {
    absl::MutexLock lock(&mu_);
    std::erase_if(targets, [](const BulkTarget& target) {
      return !target.state->error.ok();
    });
    for (BulkTarget& target : targets) {
      if (target.keyspace != target.state->keyspace) {
        target.keyspace = target.state->keyspace;
        target.checkpoint = target.state->checkpoint;
      }
      target.folded = target.checkpoint;
      target.instance = target.state->spec.make();
    }
  };
  auto committed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(fold_mu_) {
    {
      absl::MutexLock lock(&mu_);
      for (BulkTarget& target : targets) {
        target.state->checkpoint = target.checkpoint;
      }
    }
    for (const std::function<void()>& listener : listeners_) listener();
  };
  absl::Status folded;
  {
    BulkFoldStarted();
    LogPrefetcher prefetcher(store_, from, options_.rebuild_batch_events,
                             kPrefetchChunks, LogPrefetcher::kToTheHead,
                             options_.bulk_fold_hooks.thread_started);
    folded = FoldInBulk(prefetcher, targets, &fold_mu_, begin_interval,
                        committed, [this] { return stop_requested_.load(); });
    BulkFoldEnded();
  }
  if (!folded.ok()) {
    absl::MutexLock fold(&fold_mu_);
    for (BulkTarget& target : targets) {
      // Batch by batch from here on, which stops the fold at that event.
      if (target.failed_at > 0) target.state->bulk_failed_at = target.failed_at;
    }
  }
}

void ProjectionRunner::AddBulkTargets(State* state, KeyspaceRef keyspace,
                                      uint64_t checkpoint,
                                      std::vector<BulkTarget>& targets) {
  for (int shard = 0; shard < std::max(1, state->spec.bulk_shards); ++shard) {
    targets.push_back(BulkTarget{.state = state,
                                 .keyspace = keyspace,
                                 .shard = shard,
                                 .checkpoint = checkpoint});
  }
}

absl::Status ProjectionRunner::FoldInBulk(
    LogPrefetcher& prefetcher, std::vector<BulkTarget>& targets,
    absl::Mutex* interval_lock, const std::function<void()>& begin_interval,
    const std::function<void()>& committed,
    const std::function<bool()>& cancelled) {
  bool at_head = false;
  while (!at_head) {
    std::optional<absl::MutexLock> lock;
    if (interval_lock != nullptr) lock.emplace(interval_lock);
    begin_interval();
    if (targets.empty()) return absl::OkStatus();
    std::unique_ptr<ProjectionCommit> commit = db_->NewCommit(
        CommitMode::kBulk, options_.bulk_fold_hooks.thread_started);
    // Each target folds into its own keyspace's rows: the targets fold side
    // by side, each on a thread of its own.
    std::vector<RowBatch*> rows;
    for (BulkTarget& target : targets) {
      rows.push_back(&commit->Rows(target.keyspace, target.shard));
    }
    std::vector<absl::Status> results(targets.size());
    auto first_error = [&]() -> absl::Status {
      for (const absl::Status& result : results) {
        if (!result.ok()) return result;
      }
      return absl::OkStatus();
    };
    ChunkFeed feed(targets.size());
    std::atomic<bool> failed = false;
    auto fold = [&](size_t i) {
      eventstore::DisableRocksDbPerfCountersOnThisThread();
      if (options_.bulk_fold_hooks.thread_started) {
        options_.bulk_fold_hooks.thread_started();
      }
      BulkTarget& target = targets[i];
      const int shards = target.state->spec.bulk_shards;
      for (size_t k = 0;; ++k) {
        const EventChunk* chunk = feed.Wait(k);
        if (chunk == nullptr) break;
        for (const DecodedEvent& decoded : chunk->decoded) {
          if (!results[i].ok()) break;
          const eventstore::RecordedEvent& event = decoded.recorded();
          if (event.position <= target.folded) continue;
          target.folded = event.position;
          if (!target.instance->Wants(event.type)) continue;
          if (shards > 1 && ShardOf(event.stream, shards) != target.shard) {
            continue;
          }
          absl::Status applied =
              target.instance->ApplyDecoded(decoded, *rows[i]);
          if (!applied.ok()) {
            target.failed_at = event.position;
            results[i] = absl::Status(
                applied.code(),
                absl::StrCat("projection ", target.state->spec.name,
                             " at log position ", event.position, ": ",
                             applied.message()));
            failed = true;
          }
        }
        feed.Release(k);
      }
      if (results[i].ok() && target.folded > target.checkpoint) {
        results[i] = target.instance->Flush(*rows[i]);
      }
    };
    std::vector<std::thread> folds;
    for (size_t i = 0; i < targets.size(); ++i) folds.emplace_back(fold, i);
    int events = 0;
    bool stop = false;
    absl::Status read;
    while (events < options_.bulk_commit_events && !failed) {
      if (cancelled()) {
        stop = true;
        break;
      }
      absl::StatusOr<std::unique_ptr<EventChunk>> chunk = prefetcher.Next();
      if (!chunk.ok()) {
        read = chunk.status();
        break;
      }
      if ((*chunk)->events.empty()) {
        at_head = true;
        break;
      }
      events += static_cast<int>((*chunk)->events.size());
      feed.Push(*std::move(chunk));
    }
    feed.Close();
    for (std::thread& thread : folds) thread.join();
    RETURN_IF_ERROR(read);
    RETURN_IF_ERROR(first_error());
    bool any = false;
    for (BulkTarget& target : targets) {
      if (target.folded <= target.checkpoint || target.shard > 0) continue;
      commit->SetCheckpoint(target.keyspace, target.folded);
      any = true;
    }
    if (any) {
      RETURN_IF_ERROR(db_->Write(*commit));
      for (BulkTarget& target : targets) target.checkpoint = target.folded;
      committed();
    }
    if (stop) {
      return absl::CancelledError(
          "bulk fold cancelled; it resumes from the checkpoints committed");
    }
  }
  return absl::OkStatus();
}

absl::Status ProjectionRunner::FoldBatch(
    const std::vector<eventstore::RecordedEvent>& events) {
  // A projection that cannot fold an event folds the batch up to it and
  // stops there: the batch is folded again with that limit.
  std::map<State*, std::pair<uint64_t, absl::Status>> stops;
  std::vector<DecodedEvent> decoded;
  decoded.reserve(events.size());
  for (const eventstore::RecordedEvent& event : events) {
    decoded.emplace_back(event);
  }
  while (true) {
    std::unique_ptr<ProjectionCommit> commit = db_->NewCommit();
    std::vector<std::pair<State*, uint64_t>> advanced;
    bool retry = false;
    for (auto& [name, state] : states_) {
      uint64_t checkpoint = 0;
      {
        absl::MutexLock lock(&mu_);
        if (!state->error.ok()) continue;
        checkpoint = state->checkpoint;
      }
      auto stop = stops.find(state.get());
      const uint64_t limit =
          stop == stops.end() ? events.back().position : stop->second.first - 1;
      if (checkpoint >= limit) continue;
      RowBatch& rows = RowsOf(*commit, state->spec, state->keyspace);
      absl::Status failure;
      for (const DecodedEvent& decoded_event : decoded) {
        const eventstore::RecordedEvent& event = decoded_event.recorded();
        if (event.position <= checkpoint) continue;
        if (event.position > limit) break;
        if (!state->instance->Wants(event.type)) continue;
        failure = state->instance->ApplyDecoded(decoded_event, rows);
        if (!failure.ok()) {
          stops[state.get()] = {
              event.position,
              absl::Status(failure.code(),
                           absl::StrCat("at log position ", event.position,
                                        ": ", failure.message()))};
          break;
        }
      }
      if (failure.ok()) failure = state->instance->Flush(rows);
      if (!failure.ok()) {
        if (stops.find(state.get()) == stops.end()) {
          stops[state.get()] = {checkpoint + 1, failure};
        }
        retry = true;
        break;
      }
      commit->SetCheckpoint(state->keyspace, limit);
      advanced.emplace_back(state.get(), limit);
    }
    if (retry) {
      // Instances drop what they cached for the abandoned commit.
      for (auto& [name, state] : states_) state->instance = state->spec.make();
      continue;
    }
    absl::Status written = db_->Write(*commit);
    if (!written.ok()) {
      for (auto& [name, state] : states_) state->instance = state->spec.make();
      return written;
    }
    absl::MutexLock lock(&mu_);
    for (auto& [state, checkpoint] : advanced) state->checkpoint = checkpoint;
    for (auto& [state, stop] : stops) state->error = stop.second;
    return absl::OkStatus();
  }
}

absl::Status ProjectionRunner::WaitUntilFolded(
    absl::Span<const std::string> names, uint64_t position,
    absl::Time deadline) {
  ASSIGN_OR_RETURN(std::vector<State*> states, Select(names, false));
  absl::MutexLock lock(&mu_);
  auto done = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    if (stopping_) return true;
    for (State* state : states) {
      if (!state->error.ok()) return true;
      if (state->checkpoint < position) return false;
    }
    return true;
  };
  mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
  if (stopping_) return absl::UnavailableError("the server is stopping");
  uint64_t slowest = std::numeric_limits<uint64_t>::max();
  for (State* state : states) {
    if (!state->error.ok()) {
      return absl::UnavailableError(
          absl::StrCat("projection ", state->spec.name,
                       " has stopped: ", state->error.message()));
    }
    slowest = std::min(slowest, state->checkpoint);
  }
  if (slowest < position) {
    return absl::DeadlineExceededError(
        absl::StrCat("min_position: the read model reached log position ",
                     slowest, ", not ", position, ", before the deadline"));
  }
  return absl::OkStatus();
}

uint64_t ProjectionRunner::Checkpoint(absl::string_view name) {
  auto it = states_.find(name);
  if (it == states_.end()) return 0;
  absl::MutexLock lock(&mu_);
  return it->second->checkpoint;
}

std::vector<ProjectionStatus> ProjectionRunner::Status() {
  const uint64_t head = store_->HeadPosition();
  std::vector<ProjectionStatus> out;
  for (auto& [name, state] : states_) {
    KeyspaceRef live = db_->Live(name);
    std::optional<CacheStats> row_cache;
    if (live != nullptr && live->row_cache() != nullptr) {
      row_cache = live->row_cache()->GetStats();
    }
    absl::MutexLock lock(&mu_);
    ProjectionStatus status{.name = name,
                            .version = state->spec.version,
                            .keyspace = live == nullptr ? "" : live->id(),
                            .checkpoint = state->checkpoint,
                            .head_position = std::max(head, state->checkpoint),
                            .error = state->error,
                            .rebuild = state->progress};
    status.lag = status.head_position - status.checkpoint;
    status.row_cache = std::move(row_cache);
    out.push_back(std::move(status));
  }
  return out;
}

absl::StatusOr<std::vector<ProjectionRunner::State*>> ProjectionRunner::Select(
    absl::Span<const std::string> names, bool for_rebuild) {
  std::vector<State*> out;
  if (names.empty()) {
    for (auto& [name, state] : states_) {
      if (!for_rebuild || state->spec.rebuildable) out.push_back(state.get());
    }
    return out;
  }
  for (const std::string& name : names) {
    auto it = states_.find(name);
    if (it == states_.end()) {
      std::vector<std::string> known;
      for (const auto& [known_name, state] : states_) {
        known.push_back(known_name);
      }
      return absl::NotFoundError(absl::StrCat(
          "projection \"", name,
          "\" does not exist; known: ", absl::StrJoin(known, ", ")));
    }
    if (for_rebuild && !it->second->spec.rebuildable) {
      return absl::FailedPreconditionError(
          absl::StrCat("projection ", name, " cannot be rebuilt"));
    }
    if (std::find(out.begin(), out.end(), it->second.get()) == out.end()) {
      out.push_back(it->second.get());
    }
  }
  return out;
}

absl::Status ProjectionRunner::Rebuild(
    std::vector<std::string> names,
    const std::function<void(const RebuildProgress&)>& progress,
    const std::function<bool()>& cancelled) {
  ASSIGN_OR_RETURN(std::vector<State*> states, Select(names, true));
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("the server is stopping");
    for (State* state : states) {
      if (state->rebuilding) {
        return absl::FailedPreconditionError(absl::StrCat(
            "projection ", state->spec.name, " is being rebuilt already"));
      }
    }
    for (State* state : states) {
      state->rebuilding = true;
      state->progress = RebuildProgress{};
    }
  }
  absl::Status status = RebuildSelected(states, progress, cancelled);
  absl::MutexLock lock(&mu_);
  for (State* state : states) {
    state->rebuilding = false;
    state->progress.reset();
  }
  return status;
}

absl::Status ProjectionRunner::RebuildSelected(
    const std::vector<State*>& states,
    const std::function<void(const RebuildProgress&)>& progress,
    const std::function<bool()>& cancelled) {
  struct Shadow {
    State* state;
    KeyspaceRef keyspace;
    std::unique_ptr<Projection> instance;
    uint64_t checkpoint;
  };
  std::vector<Shadow> shadows;
  uint64_t position = std::numeric_limits<uint64_t>::max();
  for (State* state : states) {
    // Resume a shadow of this version left by an earlier rebuild.
    KeyspaceRef keyspace = db_->Shadow(state->spec.name);
    if (keyspace == nullptr || keyspace->version() != state->spec.version) {
      ASSIGN_OR_RETURN(
          keyspace, db_->CreateShadow(state->spec.name, state->spec.version));
    }
    ASSIGN_OR_RETURN(uint64_t checkpoint, db_->Checkpoint(*keyspace));
    position = std::min(position, checkpoint);
    shadows.push_back(Shadow{.state = state,
                             .keyspace = std::move(keyspace),
                             .instance = state->spec.make(),
                             .checkpoint = checkpoint});
  }
  if (shadows.empty()) return absl::OkStatus();

  const uint64_t started_at = position;
  // Appends may outpace the rebuild: each pass folds up to the head as it
  // found it, never after a head that keeps moving. The last pass, under
  // fold_mu_, leaves what comes after it to the follower.
  const uint64_t head_at_start = store_->HeadPosition();
  const absl::Time start = absl::Now();
  absl::Time next_report = start;
  auto report = [&](bool promoted) {
    const uint64_t head = std::max(store_->HeadPosition(), position);
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    RebuildProgress now{
        .events_done = position, .head_position = head, .promoted = promoted};
    if (seconds > 0) {
      now.events_per_second = (position - started_at) / seconds;
    }
    if (now.events_per_second > 0 && head > position) {
      now.eta = absl::Seconds((head - position) / now.events_per_second);
    }
    {
      absl::MutexLock lock(&mu_);
      for (const Shadow& shadow : shadows) shadow.state->progress = now;
    }
    progress(now);
  };

  // Folds the events after each shadow's checkpoint up to `last` into
  // `group`, in steps of one commit each; returns once `last` is folded or a
  // read finds nothing new.
  auto fold_to = [&](const std::vector<Shadow*>& group,
                     uint64_t last_position) -> absl::Status {
    uint64_t from = std::numeric_limits<uint64_t>::max();
    for (const Shadow* shadow : group) {
      from = std::min(from, shadow->checkpoint);
    }
    while (!group.empty() && from < last_position) {
      if (cancelled() || stop_requested_) {
        return absl::CancelledError(
            "rebuild cancelled; the next rebuild resumes from log position " +
            std::to_string(position));
      }
      ASSIGN_OR_RETURN(
          std::vector<eventstore::RecordedEvent> events,
          store_->ReadAll({.from_position = from + 1,
                           .max_count = options_.rebuild_batch_events}));
      while (!events.empty() && events.back().position > last_position) {
        events.pop_back();
      }
      if (events.empty()) return absl::OkStatus();
      std::vector<DecodedEvent> decoded;
      decoded.reserve(events.size());
      for (const eventstore::RecordedEvent& event : events) {
        decoded.emplace_back(event);
      }
      const uint64_t last = events.back().position;
      std::unique_ptr<ProjectionCommit> commit = db_->NewCommit();
      for (Shadow* shadow : group) {
        if (shadow->checkpoint >= last) continue;
        RowBatch& rows = RowsOf(*commit, shadow->state->spec, shadow->keyspace);
        for (const DecodedEvent& decoded_event : decoded) {
          const eventstore::RecordedEvent& event = decoded_event.recorded();
          if (event.position <= shadow->checkpoint) continue;
          if (!shadow->instance->Wants(event.type)) continue;
          absl::Status applied =
              shadow->instance->ApplyDecoded(decoded_event, rows);
          if (!applied.ok()) {
            return absl::Status(
                applied.code(),
                absl::StrCat("projection ", shadow->state->spec.name,
                             " at log position ", event.position, ": ",
                             applied.message()));
          }
        }
        RETURN_IF_ERROR(shadow->instance->Flush(rows));
        commit->SetCheckpoint(shadow->keyspace, last);
      }
      RETURN_IF_ERROR(db_->Write(*commit));
      for (Shadow* shadow : group) {
        shadow->checkpoint = std::max(shadow->checkpoint, last);
      }
      from = last;
      position = std::max(position, MinCheckpoint(shadows));
      if (absl::Now() >= next_report) {
        report(false);
        next_report = absl::Now() + options_.progress_interval;
      }
    }
    return absl::OkStatus();
  };

  // Shadows whose folds allow it are filled in bulk, the others batch by
  // batch; each group in a pass of its own.
  std::vector<Shadow*> all;
  std::vector<Shadow*> plain;
  std::vector<BulkTarget> bulk;
  for (Shadow& shadow : shadows) {
    all.push_back(&shadow);
    if (shadow.state->spec.bulk) {
      AddBulkTargets(shadow.state, shadow.keyspace, shadow.checkpoint, bulk);
    } else {
      plain.push_back(&shadow);
    }
  }
  RETURN_IF_ERROR(fold_to(plain, head_at_start));
  if (!bulk.empty()) {
    uint64_t from = std::numeric_limits<uint64_t>::max();
    for (const BulkTarget& target : bulk) {
      from = std::min(from, target.checkpoint + 1);
    }
    auto begin_interval = [&] {
      for (BulkTarget& target : bulk) {
        target.folded = target.checkpoint;
        target.instance = target.state->spec.make();
      }
    };
    auto committed = [&] {
      for (Shadow& shadow : shadows) {
        for (const BulkTarget& target : bulk) {
          if (target.keyspace == shadow.keyspace) {
            shadow.checkpoint = target.checkpoint;
          }
        }
      }
      position = std::max(position, MinCheckpoint(shadows));
      if (absl::Now() >= next_report) {
        report(false);
        next_report = absl::Now() + options_.progress_interval;
      }
    };
    absl::Status folded;
    {
      BulkFoldStarted();
      LogPrefetcher prefetcher(store_, from, options_.rebuild_batch_events,
                               kPrefetchChunks, head_at_start,
                               options_.bulk_fold_hooks.thread_started);
      folded = FoldInBulk(prefetcher, bulk, nullptr, begin_interval, committed,
                          [&] { return cancelled() || stop_requested_; });
      BulkFoldEnded();
    }
    if (absl::IsCancelled(folded)) {
      return absl::CancelledError(
          "rebuild cancelled; the next rebuild resumes from log position " +
          std::to_string(position));
    }
    RETURN_IF_ERROR(folded);
  }
  // Each shadow's files merged into one sorted run before the follower
  // waits for the switch: merging a long log's files takes a while.
  std::vector<absl::Status> compacted(shadows.size());
  InParallel(shadows.size(), [&](size_t i) {
    compacted[i] = db_->CompactShadow(shadows[i].state->spec.name);
  });
  for (const absl::Status& status : compacted) RETURN_IF_ERROR(status);
  {
    // The follower waits while the last events are folded and the shadows
    // take over, so no event falls between the two keyspaces.
    absl::MutexLock fold(&fold_mu_);
    RETURN_IF_ERROR(fold_to(all, store_->HeadPosition()));
    for (Shadow& shadow : shadows) {
      RETURN_IF_ERROR(db_->Promote(shadow.state->spec.name));
      State* state = shadow.state;
      state->keyspace = db_->Live(state->spec.name);
      state->instance = state->spec.make();
      state->bulk_failed_at = 0;
      absl::MutexLock lock(&mu_);
      state->checkpoint = shadow.checkpoint;
      state->error = absl::OkStatus();  // a rebuild cures a stopped fold
    }
  }
  report(true);
  return absl::OkStatus();
}

}  // namespace leadledger::projections
