// A channel to an in-process server listening on 127.0.0.1.
#ifndef LEADLEDGER_TESTS_TESTING_LOOPBACK_CHANNEL_H_
#define LEADLEDGER_TESTS_TESTING_LOOPBACK_CHANNEL_H_

#include <memory>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"

namespace leadledger::testing {

// An insecure channel to port `port` of the loopback address.
inline std::shared_ptr<grpc::Channel> LoopbackChannel(int port) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                             grpc::InsecureChannelCredentials());
}

}  // namespace leadledger::testing

#endif  // LEADLEDGER_TESTS_TESTING_LOOPBACK_CHANNEL_H_
