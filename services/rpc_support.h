// What every unary RPC of LeadLedger does the same way: run on the worker
// pool as a tracked call, stop early when the caller has gone, read the call
// metadata, check request ids and etags, and map the result to a
// grpc::Status once.
#ifndef LEADLEDGER_SERVICES_RPC_SUPPORT_H_
#define LEADLEDGER_SERVICES_RPC_SUPPORT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "eventstore/event_store.h"
#include "grpcpp/grpcpp.h"
#include "services/call_tracker.h"
#include "services/grpc_status.h"
#include "services/lead_command_handler.h"
#include "services/worker_pool.h"

namespace leadledger::services {

// What the services share to run their calls. All must outlive them.
//
// Mutations and queries run on pools of their own: a mutation spends most of
// its time waiting for its group commit's fsync, and a query sharing its
// pool would wait for a worker behind them.
struct RpcEnv {
  CallTracker* calls = nullptr;
  // Runs mutations (and whatever waits on the disk's fsync).
  WorkerPool* workers = nullptr;
  // Runs queries: reads of the log and of the read models.
  WorkerPool* query_workers = nullptr;
};

enum class CallKind { kMutation, kQuery };

// The deadline of the call; absl::InfiniteFuture() when it has none.
absl::Time DeadlineOf(const grpc::CallbackServerContext& context);

// CANCELLED or DEADLINE_EXCEEDED when the caller no longer waits for the
// answer, OK otherwise: work checks this before each costly step.
absl::Status CallStillWanted(grpc::CallbackServerContext& context);

// Runs `body` (absl::Status(), invoked once, on a worker thread) as one
// tracked call and finishes the RPC with its status. Whatever `body` captures
// must stay valid until it runs: capture the request, response and context
// pointers by value, never locals of the reactor method by reference.
//
// `kind` picks the pool: kQuery for calls that only read.
template <typename Body>
grpc::ServerUnaryReactor* Answer(const RpcEnv& env,
                                 grpc::CallbackServerContext* context,
                                 Body body,
                                 CallKind kind = CallKind::kMutation) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::optional<CallTracker::Scope> call = env.calls->Enter();
  if (!call.has_value()) {
    reactor->Finish(ToGrpcStatus(
        absl::UnavailableError("server is shutting down; retry elsewhere")));
    return reactor;
  }
  WorkerPool* pool = kind == CallKind::kQuery ? env.query_workers : env.workers;
  const bool queued =
      pool->Schedule([reactor, context, scope = std::move(*call),
                      body = std::move(body)]() mutable {
        absl::Status status = CallStillWanted(*context);
        if (status.ok()) status = body();
        reactor->Finish(ToGrpcStatus(status));
      });
  if (!queued) {
    reactor->Finish(ToGrpcStatus(absl::ResourceExhaustedError(
        "server overloaded: too many calls waiting; retry with back-off")));
  }
  return reactor;
}

// Returns once the log's head has reached `min_position` (at once for 0),
// waking on commits and looking again every `slice`.
// Errors: DEADLINE_EXCEEDED naming min_position and the head when the
// call's deadline passes first; CANCELLED when the caller goes away;
// UNAVAILABLE when the store closes.
[[nodiscard]] absl::Status AwaitLogPosition(
    eventstore::EventStore& store, grpc::CallbackServerContext& context,
    uint64_t min_position, absl::Duration slice);

// Reads the caller's identity and correlation id from call metadata
// ("x-actor", "x-correlation-id").
// Errors: INVALID_ARGUMENT when a value is too long.
[[nodiscard]] absl::StatusOr<CallContext> CallContextFromMetadata(
    const grpc::CallbackServerContext& context);

// Limit on request ids (AIP-155).
inline constexpr size_t kMaxRequestIdLength = 128;

// OK for an empty request id or one of at most kMaxRequestIdLength printable
// ASCII characters; INVALID_ARGUMENT naming "request_id" otherwise.
absl::Status ValidRequestId(const std::string& request_id);

// What "the same request" means for request_id: the RPC and every field of
// its request but the request id itself.
template <typename Request>
std::string Fingerprint(absl::string_view method, const Request& request) {
  Request copy = request;
  copy.clear_request_id();
  return absl::StrCat(method, "\n", copy.SerializeAsString());
}

// The mutation options of a request's request_id: none when it is empty.
template <typename Request>
absl::StatusOr<MutationOptions> IdempotencyOf(absl::string_view method,
                                              const Request& request) {
  if (absl::Status valid = ValidRequestId(request.request_id()); !valid.ok()) {
    return valid;
  }
  MutationOptions mutation;
  if (!request.request_id().empty()) {
    mutation.request_id = request.request_id();
    mutation.fingerprint = Fingerprint(method, request);
  }
  return mutation;
}

// The stream version an etag stands for; nullopt for an empty etag.
// Errors: INVALID_ARGUMENT naming "etag".
absl::StatusOr<std::optional<int64_t>> ParseEtag(const std::string& etag);

// Prefixes the field named in a domain INVALID_ARGUMENT with the request
// field that holds it ("display_name: ..." -> "lead.display_name: ...").
absl::Status InRequestField(absl::string_view prefix, absl::Status status);

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_RPC_SUPPORT_H_
