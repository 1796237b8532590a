#include "services/grpc_status.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace leadledger::services {
namespace {

// Whether `text` looks like a request field path: "lead.display_name",
// "names[1]", "update_mask".
bool IsFieldPath(absl::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' &&
        c != '.' && c != '[' && c != ']') {
      return false;
    }
  }
  return true;
}

// The rich error details of an INVALID_ARGUMENT whose message starts with the
// field it is about ("lead.display_name: must not be empty", as every layer
// below words them): a google.rpc.Status holding a BadRequest.
std::string BadRequestDetails(const absl::Status& status) {
  const absl::string_view message = status.message();
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos ||
      !IsFieldPath(message.substr(0, colon))) {
    return "";
  }
  google::rpc::BadRequest bad_request;
  google::rpc::BadRequest::FieldViolation* violation =
      bad_request.add_field_violations();
  violation->set_field(std::string(message.substr(0, colon)));
  violation->set_description(std::string(message.substr(colon + 2)));
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(std::string(message));
  rich.add_details()->PackFrom(bad_request);
  return rich.SerializeAsString();
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  if (status.code() == absl::StatusCode::kInternal ||
      status.code() == absl::StatusCode::kUnknown) {
    return grpc::Status(code, "internal error");
  }
  if (status.code() == absl::StatusCode::kInvalidArgument) {
    return grpc::Status(code, std::string(status.message()),
                        BadRequestDetails(status));
  }
  return grpc::Status(code, std::string(status.message()));
}

}  // namespace leadledger::services
