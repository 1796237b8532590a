#include "domain/phone.h"

#include <string>

#include "gtest/gtest.h"

namespace leadledger::domain {
namespace {

struct PhoneCase {
  std::string typed;
  std::string region;
  std::string e164;  // Empty when not correct.
  ContactState state;
};

class NormalizePhoneTest : public ::testing::TestWithParam<PhoneCase> {};

TEST_P(NormalizePhoneTest, NormalizesAndValidates) {
  const PhoneCase& c = GetParam();
  NormalizedPhone phone = NormalizePhone(c.typed, c.region);
  EXPECT_EQ(phone.state, c.state) << c.typed << " in " << c.region;
  EXPECT_EQ(phone.e164, c.e164) << c.typed << " in " << c.region;
}

constexpr ContactState kOk = ContactState::kCorrect;
constexpr ContactState kBad = ContactState::kIncorrect;

INSTANTIATE_TEST_SUITE_P(
    Phones, NormalizePhoneTest,
    ::testing::Values(
        // Blank.
        PhoneCase{"", "ES", "", ContactState::kUnset},
        PhoneCase{" \t ", "ES", "", ContactState::kUnset},
        PhoneCase{"", "", "", ContactState::kUnset},
        // Spain: mobile and landline, national and international forms.
        PhoneCase{"600123456", "ES", "+34600123456", kOk},
        PhoneCase{"+34600123456", "ES", "+34600123456", kOk},
        PhoneCase{"0034 600 123 456", "ES", "+34600123456", kOk},
        PhoneCase{"  600 12 34 56  ", "ES", "+34600123456", kOk},
        PhoneCase{"600-123-456", "ES", "+34600123456", kOk},
        PhoneCase{"+34 600-12-34-56", "ES", "+34600123456", kOk},
        PhoneCase{"912345678", "ES", "+34912345678", kOk},
        PhoneCase{"(+34) 912 345 678", "ES", "+34912345678", kOk},
        PhoneCase{"91 234 56 78", "es", "+34912345678", kOk},
        // United States.
        PhoneCase{"(650) 253-0000", "US", "+16502530000", kOk},
        PhoneCase{"650.253.0000", "US", "+16502530000", kOk},
        // Written with "+": the region does not matter.
        PhoneCase{"+1 650 253 0000", "", "+16502530000", kOk},
        PhoneCase{"+34 600 123 456", "XX", "+34600123456", kOk},
        PhoneCase{"+44 20 7946 0958", "ES", "+442079460958", kOk},
        // Invalid.
        PhoneCase{"123", "ES", "", kBad}, PhoneCase{"6", "ES", "", kBad},
        PhoneCase{"hello", "ES", "", kBad},
        PhoneCase{"call me", "US", "", kBad},
        PhoneCase{"60012345", "ES", "", kBad},
        PhoneCase{"6001234567", "ES", "", kBad},
        PhoneCase{"+34 60012345", "", "", kBad},
        PhoneCase{"650 253 000", "US", "", kBad},
        PhoneCase{"+999 600 123 456", "ES", "", kBad},
        // Without "+", a number needs a region to be read in.
        PhoneCase{"600123456", "", "", kBad},
        PhoneCase{"600123456", "XX", "", kBad},
        // Overlong, even when it would parse.
        PhoneCase{"+34600123456" + std::string(53, ' ') + "0", "ES", "", kBad},
        PhoneCase{std::string(65, '6'), "ES", "", kBad}));

TEST(NormalizePhoneEdgeTest, AcceptsInputOfExactlyTheMaximumLength) {
  // Padding inside the text counts; only surrounding blanks are dropped.
  std::string typed =
      "+34" + std::string(kMaxPhoneLength - 12, ' ') + "600123456";
  ASSERT_EQ(typed.size(), kMaxPhoneLength);
  EXPECT_EQ(NormalizePhone(typed, "ES"),
            (NormalizedPhone{.e164 = "+34600123456",
                             .state = ContactState::kCorrect}));
  EXPECT_EQ(NormalizePhone("   " + typed + "   ", "ES").state,
            ContactState::kCorrect);
}

TEST(NormalizePhoneEdgeTest, DropsAnExtension) {
  EXPECT_EQ(NormalizePhone("600 123 456 ext. 12", "ES").e164, "+34600123456");
}

TEST(IsPhoneRegionTest, KnowsAssignedCountriesOnly) {
  EXPECT_TRUE(IsPhoneRegion("ES"));
  EXPECT_TRUE(IsPhoneRegion("US"));
  EXPECT_TRUE(IsPhoneRegion("PT"));
  EXPECT_FALSE(IsPhoneRegion("ZZ"));
  EXPECT_FALSE(IsPhoneRegion("XX"));
  EXPECT_FALSE(IsPhoneRegion(""));
  // The numbering plan spells regions in upper case only.
  EXPECT_FALSE(IsPhoneRegion("es"));
}

}  // namespace
}  // namespace leadledger::domain
