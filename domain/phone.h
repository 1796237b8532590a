// Contact-data quality (SPEC §8): normalization of phone numbers to E.164.
// Pure functions; thread-safe (libphonenumber's PhoneNumberUtil is immutable
// once built).
#ifndef LEADLEDGER_DOMAIN_PHONE_H_
#define LEADLEDGER_DOMAIN_PHONE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "domain/lead.h"

namespace leadledger::domain {

struct NormalizedPhone {
  // "+" and digits ("+34600123456") when correct; empty otherwise.
  std::string e164;
  // kUnset for blank input, else kCorrect or kIncorrect.
  ContactState state = ContactState::kUnset;

  bool operator==(const NormalizedPhone&) const = default;
};

// Longer input is kIncorrect without being parsed: no real number comes
// close, and it bounds the parser's regular-expression work on untrusted
// text.
inline constexpr size_t kMaxPhoneLength = 64;

// Normalizes a phone number as typed. Surrounding blanks are dropped; blank
// input is kUnset. A number written without "+" is read as a national number
// of `region_code` (ISO 3166-1 alpha-2, either case: the lead's country, else
// the workspace default); with an empty or unknown region only numbers written
// with "+" parse. A number that does not parse, or that is not a valid number
// of its country, is kIncorrect with an empty e164: the caller keeps what was
// typed. An extension ("ext. 12") is not part of E.164 and is dropped.
[[nodiscard]] NormalizedPhone NormalizePhone(absl::string_view typed,
                                             absl::string_view region_code);

// Whether `region_code` (ISO 3166-1 alpha-2, upper case) names a country
// whose national numbers NormalizePhone can read: one known to the numbering
// plan. "ZZ" and other unassigned codes are not.
[[nodiscard]] bool IsPhoneRegion(absl::string_view region_code);

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_PHONE_H_
