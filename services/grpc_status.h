// The one place where absl::Status becomes grpc::Status. Everything below the
// gRPC service classes speaks absl.
#ifndef LEADLEDGER_SERVICES_GRPC_STATUS_H_
#define LEADLEDGER_SERVICES_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace leadledger::services {

// Same code (absl and gRPC share the numbering) and message. INTERNAL and
// UNKNOWN errors keep a generic message: internals never reach a caller.
// INVALID_ARGUMENT whose message starts with a field path ("lead.email: ...")
// also carries a google.rpc.Status with a google.rpc.BadRequest naming the
// field, in the standard rich-error trailer.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace leadledger::services

#endif  // LEADLEDGER_SERVICES_GRPC_STATUS_H_
