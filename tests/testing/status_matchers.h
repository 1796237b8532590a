// GoogleTest matchers for absl::Status and absl::StatusOr, named as in later
// Abseil releases so an upgrade is a rename:
//   EXPECT_THAT(store.Append(r), IsOk());
//   EXPECT_THAT(Decide(s, c), StatusIs(absl::StatusCode::kInvalidArgument,
//                                      HasSubstr("display_name")));
#ifndef LEADLEDGER_TESTS_TESTING_STATUS_MATCHERS_H_
#define LEADLEDGER_TESTS_TESTING_STATUS_MATCHERS_H_

#include <ostream>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace leadledger::testing {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(
             message_matcher, std::string(status.message()), result_listener);
}

MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

inline auto StatusIs(absl::StatusCode code) {
  return StatusIs(code, ::testing::_);
}

}  // namespace leadledger::testing

#endif  // LEADLEDGER_TESTS_TESTING_STATUS_MATCHERS_H_
