// HistoryService over gRPC (callback API): a lead's events, a lead as of a
// version or a time, the whole log in pages, and a live subscription to it.
// It reads the event log directly, never a projection.
//
// The unary RPCs run on the worker pool like every other service. Each
// subscription runs on a thread of its own, because Subscription::Next
// blocks until the log grows: it writes one event at a time and waits for
// gRPC to accept it before taking the next (a slow client holds back only
// its own subscription, and the store bounds what it buffers). Their number
// is bounded; EndSubscriptions() ends them all before the store closes.
#ifndef LEADLEDGER_SERVICES_HISTORY_SERVICE_H_
#define LEADLEDGER_SERVICES_HISTORY_SERVICE_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "eventstore/event_store.h"
#include "grpcpp/grpcpp.h"
#include "leadledger/v1/history_service.grpc.pb.h"
#include "services/lead_command_handler.h"
#include "services/rpc_support.h"

namespace leadledger::services {

struct HistoryServiceOptions {
  // Subscriptions served at once; more are refused with RESOURCE_EXHAUSTED.
  int max_subscriptions = 256;
  // Longest a call waiting for `min_position` sleeps before it checks again
  // whether its caller still waits.
  absl::Duration position_wait_slice = absl::Milliseconds(200);
};

// Thread-safe. The pointers given to the constructor must outlive the
// service.
class HistoryServiceImpl final : public v1::HistoryService::CallbackService {
 public:
  // Unary calls run on `env.workers`, counted in `env.calls`; subscriptions
  // run on threads of their own.
  HistoryServiceImpl(eventstore::EventStore* store, LeadCommandHandler* handler,
                     RpcEnv env, HistoryServiceOptions options = {});
  // Ends the subscriptions still open (see EndSubscriptions).
  ~HistoryServiceImpl() override;

  HistoryServiceImpl(const HistoryServiceImpl&) = delete;
  HistoryServiceImpl& operator=(const HistoryServiceImpl&) = delete;

  grpc::ServerUnaryReactor* GetLeadHistory(
      grpc::CallbackServerContext* context,
      const v1::GetLeadHistoryRequest* request,
      v1::GetLeadHistoryResponse* response) override;
  grpc::ServerUnaryReactor* GetLeadAsOf(
      grpc::CallbackServerContext* context,
      const v1::GetLeadAsOfRequest* request,
      v1::GetLeadAsOfResponse* response) override;
  grpc::ServerUnaryReactor* ReadAll(grpc::CallbackServerContext* context,
                                    const v1::ReadAllRequest* request,
                                    v1::ReadAllResponse* response) override;
  grpc::ServerWriteReactor<v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const v1::SubscribeRequest* request) override;

  // Refuses new subscriptions (UNAVAILABLE) and ends the open ones with
  // UNAVAILABLE, naming the position to subscribe again from (a client that
  // does not take its last write within a second is cancelled instead).
  // Returns once every one has finished and none uses the store any more.
  // Idempotent.
  void EndSubscriptions();

 private:
  class SubscriptionReactor;

  absl::Status DoGetLeadHistory(grpc::CallbackServerContext& context,
                                const v1::GetLeadHistoryRequest& request,
                                v1::GetLeadHistoryResponse& response);
  absl::Status DoGetLeadAsOf(grpc::CallbackServerContext& context,
                             const v1::GetLeadAsOfRequest& request,
                             v1::GetLeadAsOfResponse& response);
  absl::Status DoReadAll(grpc::CallbackServerContext& context,
                         const v1::ReadAllRequest& request,
                         v1::ReadAllResponse& response);

  // Returns once the log's head has reached `min_position` (at once for 0).
  // Errors: DEADLINE_EXCEEDED naming min_position and the head when the
  // call's deadline passes first; CANCELLED when the caller goes away;
  // UNAVAILABLE when the store closes.
  absl::Status AwaitPosition(grpc::CallbackServerContext& context,
                             uint64_t min_position);

  // The stream version of lead `lead_id`'s last event recorded at or before
  // `time`. Errors: NOT_FOUND when the lead has no event that early; the
  // store's read errors.
  absl::StatusOr<int64_t> VersionAt(absl::string_view lead_id, absl::Time time);

  // Admits `subscription` among the open ones. Errors: UNAVAILABLE once
  // EndSubscriptions was called; RESOURCE_EXHAUSTED when
  // `max_subscriptions` are open.
  absl::Status Admit(SubscriptionReactor* subscription);
  // Removes `subscription`, which has finished.
  void Release(SubscriptionReactor* subscription);

  eventstore::EventStore* const store_;
  LeadCommandHandler* const handler_;
  const RpcEnv env_;
  const HistoryServiceOptions options_;

  absl::Mutex mu_;
  absl::flat_hash_set<SubscriptionReactor*> subscriptions_ ABSL_GUARDED_BY(mu_);
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_HISTORY_SERVICE_H_
