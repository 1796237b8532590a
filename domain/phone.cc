#include "domain/phone.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "phonenumbers/phonenumber.pb.h"
#include "phonenumbers/phonenumberutil.h"

namespace leadledger::domain {

NormalizedPhone NormalizePhone(absl::string_view typed,
                               absl::string_view region_code) {
  absl::string_view text = absl::StripAsciiWhitespace(typed);
  if (text.empty()) return {};
  const NormalizedPhone incorrect{.e164 = "",
                                  .state = ContactState::kIncorrect};
  if (text.size() > kMaxPhoneLength) return incorrect;

  using ::i18n::phonenumbers::PhoneNumber;
  using ::i18n::phonenumbers::PhoneNumberUtil;
  const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
  PhoneNumber number;
  // libphonenumber knows regions in upper case only; "es" must mean Spain.
  if (util.Parse(std::string(text), absl::AsciiStrToUpper(region_code),
                 &number) != PhoneNumberUtil::NO_PARSING_ERROR ||
      !util.IsValidNumber(number)) {
    return incorrect;
  }
  NormalizedPhone phone{.e164 = "", .state = ContactState::kCorrect};
  util.Format(number, PhoneNumberUtil::E164, &phone.e164);
  return phone;
}

bool IsPhoneRegion(absl::string_view region_code) {
  const i18n::phonenumbers::PhoneNumberUtil& util =
      *i18n::phonenumbers::PhoneNumberUtil::GetInstance();
  // 0 is the numbering plan's "no such region".
  return util.GetCountryCodeForRegion(std::string(region_code)) != 0;
}

}  // namespace leadledger::domain
