#include "domain/contact.h"

#include <string>

#include "gtest/gtest.h"

namespace leadledger::domain {
namespace {

struct EmailCase {
  std::string typed;
  std::string normalized;  // Empty when not correct.
  ContactState state;
};

class NormalizeEmailTest : public ::testing::TestWithParam<EmailCase> {};

TEST_P(NormalizeEmailTest, NormalizesAndValidates) {
  const EmailCase& c = GetParam();
  NormalizedEmail email = NormalizeEmail(c.typed);
  EXPECT_EQ(email.state, c.state) << c.typed;
  EXPECT_EQ(email.normalized, c.normalized) << c.typed;
}

constexpr ContactState kOk = ContactState::kCorrect;
constexpr ContactState kBad = ContactState::kIncorrect;

INSTANTIATE_TEST_SUITE_P(
    Emails, NormalizeEmailTest,
    ::testing::Values(
        EmailCase{"", "", ContactState::kUnset},
        EmailCase{"   ", "", ContactState::kUnset},
        EmailCase{"ana@example.com", "ana@example.com", kOk},
        EmailCase{"  Ana.Ruiz@Example.COM ", "ana.ruiz@example.com", kOk},
        EmailCase{"Ana Ruiz <ana@example.com>", "ana@example.com", kOk},
        EmailCase{"<ana@example.com>", "ana@example.com", kOk},
        EmailCase{"o'brien+crm@mail.example.co.uk",
                  "o'brien+crm@mail.example.co.uk", kOk},
        EmailCase{"ana@sub-domain.example.com", "ana@sub-domain.example.com",
                  kOk},
        EmailCase{"ana", "", kBad}, EmailCase{"ana@", "", kBad},
        EmailCase{"@example.com", "", kBad},
        EmailCase{"ana@@example.com", "", kBad},
        EmailCase{"ana@example", "", kBad},
        EmailCase{"ana@example..com", "", kBad},
        EmailCase{"ana@-example.com", "", kBad},
        EmailCase{"ana@example.com-", "", kBad},
        EmailCase{".ana@example.com", "", kBad},
        EmailCase{"ana.@example.com", "", kBad},
        EmailCase{"an..a@example.com", "", kBad},
        EmailCase{"an a@example.com", "", kBad}, EmailCase{"ana@1.2", "", kBad},
        EmailCase{"Ana <ana@example.com", "", kBad},
        EmailCase{std::string(65, 'a') + "@example.com", "", kBad},
        EmailCase{"a@" + std::string(64, 'b') + ".com", "", kBad}));

}  // namespace
}  // namespace leadledger::domain
