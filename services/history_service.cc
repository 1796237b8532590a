#include "services/history_service.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "domain/status_macros.h"
#include "eventstore/rocksdb_thread.h"
#include "google/protobuf/util/time_util.h"
#include "services/grpc_status.h"
#include "services/history_mapping.h"
#include "services/lead_mapping.h"

namespace leadledger::services {
namespace {

// Events read per round trip when the whole log is scanned through a type
// filter.
constexpr int kFilteredScanChunk = 1000;

// Most events one ReadAll call looks at: a filter that matches rarely returns
// a short page and a token instead of scanning the whole log in one call.
constexpr uint64_t kMaxScannedPerPage = 10'000;

// Events read per round trip when searching a lead's stream by time.
constexpr int kStreamScanChunk = 1000;

std::string Rfc3339(absl::Time time) {
  return google::protobuf::util::TimeUtil::ToString(ToTimestamp(time));
}

}  // namespace

// One Subscribe call. A thread of its own takes events from the store's
// subscription and writes them one at a time: it starts a write only after
// gRPC reported the previous one done, so a client that reads slowly slows
// down only this thread. The call ends when the client cancels (or a write
// fails), when the service ends every subscription, or when the store
// subscription fails; the thread then gives the store subscription back,
// waits for its last write and finishes the RPC. OnDone takes the call out
// of the service and deletes it.
//
// Thread-safe: OnCancel, OnWriteDone and EndForShutdown may run on any thread
// while the thread runs.
class HistoryServiceImpl::SubscriptionReactor final
    : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  // A subscription refused with `refusal` before it began.
  explicit SubscriptionReactor(const absl::Status& refusal)
      : service_(nullptr), context_(nullptr) {
    Finish(ToGrpcStatus(refusal));
  }

  SubscriptionReactor(HistoryServiceImpl* service,
                      grpc::CallbackServerContext* context,
                      eventstore::SubscribeOptions options)
      : service_(service),
        context_(context),
        options_(std::move(options)),
        next_position_(options_.from_position) {}

  // Admits the subscription into the service, opens it on the store and
  // starts its thread; finishes the RPC at once when either is refused.
  void Start() {
    if (absl::Status admitted = service_->Admit(this); !admitted.ok()) {
      Finish(ToGrpcStatus(admitted));
      return;
    }
    {
      absl::MutexLock lock(&mu_);
      admitted_ = true;
    }
    absl::StatusOr<std::unique_ptr<eventstore::Subscription>> opened =
        service_->store_->SubscribeAll(options_);
    if (!opened.ok()) {
      Finish(ToGrpcStatus(opened.status()));
      return;
    }
    absl::MutexLock lock(&mu_);
    subscription_ = *std::move(opened);
    // The client or the server may have ended the call already, when there
    // was no subscription yet to cancel.
    if (ending_ != Ending::kNone) subscription_->Cancel();
    // Assigned under the lock: the thread may finish the RPC, and gRPC call
    // OnDone, before the assignment would otherwise be visible.
    thread_ = std::thread([this] { Run(); });
  }

  // Ends the call with UNAVAILABLE: the server is shutting down.
  void EndForShutdown() { End(Ending::kServerShutdown); }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    write_in_flight_ = false;
    // The stream is broken: the client went away.
    if (!ok) EndLocked(Ending::kClientGone);
  }

  void OnCancel() override { End(Ending::kClientGone); }

  void OnDone() override {
    std::thread thread;
    bool admitted = false;
    {
      absl::MutexLock lock(&mu_);
      thread = std::move(thread_);
      admitted = admitted_;
    }
    if (thread.joinable()) {
      // The thread's last act is Finish; should gRPC run OnDone inline
      // there, that thread cannot join itself, and it touches nothing after.
      if (thread.get_id() == std::this_thread::get_id()) {
        thread.detach();
      } else {
        thread.join();
      }
    }
    if (admitted) service_->Release(this);
    delete this;
  }

 private:
  enum class Ending { kNone, kClientGone, kServerShutdown };

  // How long the last write may take after the call ended before the call
  // is cancelled: a client that stopped reading must not hold up shutdown.
  static constexpr absl::Duration kLastWriteGrace = absl::Seconds(1);

  void End(Ending why) {
    absl::MutexLock lock(&mu_);
    EndLocked(why);
  }
  void EndLocked(Ending why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ending_ == Ending::kNone) ending_ = why;
    if (subscription_ != nullptr) subscription_->Cancel();
  }

  // The thread.
  void Run() {
    eventstore::DisableRocksDbPerfCountersOnThisThread();
    eventstore::Subscription* subscription = nullptr;
    {
      absl::MutexLock lock(&mu_);
      subscription = subscription_.get();
    }
    const absl::Status stopped = Deliver(*subscription);

    std::unique_ptr<eventstore::Subscription> finished;
    Ending ending = Ending::kNone;
    {
      absl::MutexLock lock(&mu_);
      finished = std::move(subscription_);
      ending = ending_;
    }
    // Given back before the service can let the store close.
    finished.reset();
    const grpc::Status status = ToGrpcStatus(FinalStatus(stopped, ending));
    AwaitLastWrite();
    // gRPC may delete this object from here on.
    Finish(status);
  }

  // Writes every event the subscription delivers, one write at a time, until
  // the call ends or the subscription fails; never returns OK.
  absl::Status Deliver(eventstore::Subscription& subscription) {
    while (true) {
      ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> events,
                       subscription.Next(absl::InfiniteFuture()));
      for (const eventstore::RecordedEvent& event : events) {
        ASSIGN_OR_RETURN(v1::LogEvent log_event, ToLogEvent(event));
        {
          absl::MutexLock lock(&mu_);
          auto writable = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
            return !write_in_flight_ || ending_ != Ending::kNone;
          };
          mu_.Await(absl::Condition(&writable));
          if (ending_ != Ending::kNone) {
            return absl::CancelledError("the subscription ended");
          }
          write_in_flight_ = true;
        }
        *response_.mutable_event() = std::move(log_event);
        StartWrite(&response_);
        next_position_ = event.position + 1;
      }
    }
  }

  // Returns once no write is in flight, which Finish requires.
  void AwaitLastWrite() {
    absl::MutexLock lock(&mu_);
    auto write_done = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return !write_in_flight_;
    };
    if (mu_.AwaitWithTimeout(absl::Condition(&write_done), kLastWriteGrace)) {
      return;
    }
    // The client does not take the write; a cancelled call completes it.
    context_->TryCancel();
    mu_.Await(absl::Condition(&write_done));
  }

  // What the client is told when Deliver stopped with `stopped`.
  absl::Status FinalStatus(const absl::Status& stopped, Ending ending) const {
    switch (ending) {
      case Ending::kServerShutdown:
        return absl::UnavailableError(
            absl::StrCat("the server is shutting down; subscribe again with "
                         "from_position ",
                         next_position_));
      case Ending::kClientGone:
        return absl::CancelledError("the client ended the subscription");
      case Ending::kNone:
        break;
    }
    // The store cancels its subscriptions when it closes.
    if (absl::IsCancelled(stopped)) {
      return absl::UnavailableError(absl::StrCat(
          "the event log closed; subscribe again with from_position ",
          next_position_));
    }
    return stopped;
  }

  HistoryServiceImpl* const service_;
  grpc::CallbackServerContext* const context_;
  const eventstore::SubscribeOptions options_;
  // Owned by the thread: the position after the last event written.
  uint64_t next_position_ = 0;
  // Owned by gRPC from StartWrite until OnWriteDone, by the thread otherwise.
  v1::SubscribeResponse response_;

  absl::Mutex mu_;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
  // Whether the service counts this call.
  bool admitted_ ABSL_GUARDED_BY(mu_) = false;
  // Set while the thread may use it; Cancel() through it wakes the thread.
  std::unique_ptr<eventstore::Subscription> subscription_ ABSL_GUARDED_BY(mu_);
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  Ending ending_ ABSL_GUARDED_BY(mu_) = Ending::kNone;
};

HistoryServiceImpl::HistoryServiceImpl(eventstore::EventStore* store,
                                       LeadCommandHandler* handler, RpcEnv env,
                                       HistoryServiceOptions options)
    : store_(store), handler_(handler), env_(env), options_(options) {}

HistoryServiceImpl::~HistoryServiceImpl() { EndSubscriptions(); }

grpc::ServerUnaryReactor* HistoryServiceImpl::GetLeadHistory(
    grpc::CallbackServerContext* context,
    const v1::GetLeadHistoryRequest* request,
    v1::GetLeadHistoryResponse* response) {
  return Answer(
      env_, context,
      [=, this] { return DoGetLeadHistory(*context, *request, *response); },
      CallKind::kQuery);
}

grpc::ServerUnaryReactor* HistoryServiceImpl::GetLeadAsOf(
    grpc::CallbackServerContext* context, const v1::GetLeadAsOfRequest* request,
    v1::GetLeadAsOfResponse* response) {
  return Answer(
      env_, context,
      [=, this] { return DoGetLeadAsOf(*context, *request, *response); },
      CallKind::kQuery);
}

grpc::ServerUnaryReactor* HistoryServiceImpl::ReadAll(
    grpc::CallbackServerContext* context, const v1::ReadAllRequest* request,
    v1::ReadAllResponse* response) {
  return Answer(
      env_, context,
      [=, this] { return DoReadAll(*context, *request, *response); },
      CallKind::kQuery);
}

grpc::ServerWriteReactor<v1::SubscribeResponse>* HistoryServiceImpl::Subscribe(
    grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) {
  absl::StatusOr<std::vector<std::string>> types =
      EventTypeFilter(request->event_types());
  if (!types.ok()) return new SubscriptionReactor(types.status());
  auto* reactor = new SubscriptionReactor(
      this, context,
      {.from_position = std::max<uint64_t>(request->from_position(), 1),
       .types = *std::move(types)});
  reactor->Start();
  return reactor;
}

void HistoryServiceImpl::EndSubscriptions() {
  absl::MutexLock lock(&mu_);
  ending_ = true;
  for (SubscriptionReactor* subscription : subscriptions_) {
    subscription->EndForShutdown();
  }
  auto none_open = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return subscriptions_.empty();
  };
  mu_.Await(absl::Condition(&none_open));
}

absl::Status HistoryServiceImpl::Admit(SubscriptionReactor* subscription) {
  absl::MutexLock lock(&mu_);
  if (ending_) {
    return absl::UnavailableError(
        "the server is shutting down; subscribe elsewhere");
  }
  if (subscriptions_.size() >=
      static_cast<size_t>(std::max(options_.max_subscriptions, 0))) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server already serves ", options_.max_subscriptions,
                     " subscriptions; retry later"));
  }
  subscriptions_.insert(subscription);
  return absl::OkStatus();
}

void HistoryServiceImpl::Release(SubscriptionReactor* subscription) {
  absl::MutexLock lock(&mu_);
  subscriptions_.erase(subscription);
}

absl::Status HistoryServiceImpl::AwaitPosition(
    grpc::CallbackServerContext& context, uint64_t min_position) {
  return AwaitLogPosition(*store_, context, min_position,
                          options_.position_wait_slice);
}

absl::Status HistoryServiceImpl::DoGetLeadHistory(
    grpc::CallbackServerContext& context,
    const v1::GetLeadHistoryRequest& request,
    v1::GetLeadHistoryResponse& response) {
  ASSIGN_OR_RETURN(std::string lead_id, LeadIdFromName("name", request.name()));
  ASSIGN_OR_RETURN(int page_size, PageSizeOf(request.page_size()));
  int64_t from_version = 0;
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(from_version,
                     ParseHistoryPageToken(request.page_token(), lead_id));
  }
  RETURN_IF_ERROR(AwaitPosition(context, request.min_position()));

  // One event more than the page tells whether there is a next page.
  ASSIGN_OR_RETURN(
      std::vector<eventstore::RecordedEvent> events,
      store_->ReadStream(LeadStream(lead_id), {.from_version = from_version,
                                               .max_count = page_size + 1}));
  if (events.empty() && from_version == 0) {
    return absl::NotFoundError(absl::StrCat("lead ", lead_id, " not found"));
  }
  const size_t shown = std::min(events.size(), static_cast<size_t>(page_size));
  for (size_t i = 0; i < shown; ++i) {
    ASSIGN_OR_RETURN(*response.add_events(), ToLeadHistoryEvent(events[i]));
  }
  if (events.size() > shown) {
    response.set_next_page_token(
        HistoryPageToken(lead_id, events[shown].stream_version));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> HistoryServiceImpl::VersionAt(absl::string_view lead_id,
                                                      absl::Time time) {
  std::optional<int64_t> version;
  bool has_events = false;
  bool passed_time = false;
  eventstore::StreamReadOptions page{.max_count = kStreamScanChunk};
  while (!passed_time) {
    ASSIGN_OR_RETURN(std::vector<eventstore::RecordedEvent> events,
                     store_->ReadStream(LeadStream(lead_id), page));
    has_events = has_events || !events.empty();
    for (const eventstore::RecordedEvent& event : events) {
      // The state as of `time` is the one the log held then: stop at the
      // first later event even if the clock stepped back afterwards.
      if (event.recorded_time > time) {
        passed_time = true;
        break;
      }
      version = event.stream_version;
    }
    if (events.size() < static_cast<size_t>(kStreamScanChunk)) break;
    page.from_version = events.back().stream_version + 1;
  }
  if (!version.has_value()) {
    return absl::NotFoundError(
        has_events ? absl::StrCat("lead ", lead_id, " did not exist yet at ",
                                  Rfc3339(time))
                   : absl::StrCat("lead ", lead_id, " not found"));
  }
  return *version;
}

absl::Status HistoryServiceImpl::DoGetLeadAsOf(
    grpc::CallbackServerContext& context, const v1::GetLeadAsOfRequest& request,
    v1::GetLeadAsOfResponse& response) {
  ASSIGN_OR_RETURN(std::string lead_id, LeadIdFromName("name", request.name()));
  int64_t version = 0;
  switch (request.as_of_case()) {
    case v1::GetLeadAsOfRequest::kVersion:
      if (request.version() < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "version: must not be negative, got ", request.version()));
      }
      RETURN_IF_ERROR(AwaitPosition(context, request.min_position()));
      version = request.version();
      break;
    case v1::GetLeadAsOfRequest::kTime: {
      ASSIGN_OR_RETURN(absl::Time time, FromTimestamp("time", request.time()));
      RETURN_IF_ERROR(AwaitPosition(context, request.min_position()));
      ASSIGN_OR_RETURN(version, VersionAt(lead_id, time));
      break;
    }
    case v1::GetLeadAsOfRequest::AS_OF_NOT_SET:
      return absl::InvalidArgumentError("as_of: set either version or time");
  }
  ASSIGN_OR_RETURN(LeadSnapshot snapshot, handler_->LoadAt(lead_id, version));
  LeadToProto(snapshot.lead, snapshot.version, *response.mutable_lead());
  response.set_version(snapshot.version);
  response.set_log_position(snapshot.log_position);
  return absl::OkStatus();
}

absl::Status HistoryServiceImpl::DoReadAll(grpc::CallbackServerContext& context,
                                           const v1::ReadAllRequest& request,
                                           v1::ReadAllResponse& response) {
  ASSIGN_OR_RETURN(int page_size, PageSizeOf(request.page_size()));
  ASSIGN_OR_RETURN(std::vector<std::string> types,
                   EventTypeFilter(request.event_types()));
  uint64_t cursor = std::max<uint64_t>(request.from_position(), 1);
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(cursor, ParseLogPageToken(request.page_token(), types));
  }
  RETURN_IF_ERROR(AwaitPosition(context, request.min_position()));

  // The page shows the log as of its head now, so that "read everything up
  // to head_position" is exact even while appends continue.
  const uint64_t head = store_->HeadPosition();
  response.set_head_position(head);
  const absl::flat_hash_set<std::string> wanted(types.begin(), types.end());
  // Without a filter, one event more than the page tells whether there is
  // a next page.
  const int chunk = wanted.empty() ? page_size + 1 : kFilteredScanChunk;
  uint64_t scanned = 0;
  while (cursor <= head) {
    if (scanned >= kMaxScannedPerPage) {
      response.set_next_page_token(LogPageToken(cursor, types));
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(CallStillWanted(context));
    ASSIGN_OR_RETURN(
        std::vector<eventstore::RecordedEvent> events,
        store_->ReadAll({.from_position = cursor,
                         .max_count = static_cast<int>(
                             std::min<uint64_t>(chunk, head - cursor + 1))}));
    // Positions are gapless, so the read holds nothing past the head; an
    // empty one means the log lost events, which Verify reports.
    if (events.empty()) break;
    for (const eventstore::RecordedEvent& event : events) {
      if (wanted.empty() || wanted.contains(event.type)) {
        if (response.events_size() == page_size) {
          response.set_next_page_token(LogPageToken(event.position, types));
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(*response.add_events(), ToLogEvent(event));
      }
      cursor = event.position + 1;
    }
    scanned += events.size();
  }
  return absl::OkStatus();
}

}  // namespace leadledger::services
