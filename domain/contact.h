// Contact-data quality (SPEC §8): normalization and validation of emails.
// Pure functions.
#ifndef LEADLEDGER_DOMAIN_CONTACT_H_
#define LEADLEDGER_DOMAIN_CONTACT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "domain/lead.h"

namespace leadledger::domain {

struct NormalizedEmail {
  // The lower-cased addr-spec when valid; empty otherwise.
  std::string normalized;
  // kUnset for blank input, else kCorrect or kIncorrect.
  ContactState state = ContactState::kUnset;

  bool operator==(const NormalizedEmail&) const = default;
};

// Normalizes an email as typed: surrounding blanks are dropped, a display form
// "Ana Ruiz <ana@example.com>" is reduced to its addr-spec, and the addr-spec
// is lower-cased so that duplicates compare equal (SPEC §9). The addr-spec
// must be a dot-atom local part, "@", and a domain of two or more DNS labels.
NormalizedEmail NormalizeEmail(absl::string_view typed);

}  // namespace leadledger::domain

#endif  // LEADLEDGER_DOMAIN_CONTACT_H_
