#include "domain/contact.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace leadledger::domain {
namespace {

constexpr size_t kMaxLocalPartLength = 64;
constexpr size_t kMaxAddressLength = 254;
constexpr size_t kMaxLabelLength = 63;

// RFC 5322 "atext": the characters of a dot-atom besides the dots.
bool IsAtext(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&'*+-/=?^_`{|}~").find(c) !=
             absl::string_view::npos;
}

bool IsDotAtom(absl::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  char previous = 0;
  for (char c : text) {
    if (c == '.' ? previous == '.' : !IsAtext(c)) return false;
    previous = c;
  }
  return true;
}

bool IsDnsLabel(absl::string_view label) {
  if (label.empty() || label.size() > kMaxLabelLength) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
      return false;
    }
  }
  return true;
}

bool IsDomain(absl::string_view domain) {
  std::vector<absl::string_view> labels = absl::StrSplit(domain, '.');
  if (labels.size() < 2) return false;
  for (absl::string_view label : labels) {
    if (!IsDnsLabel(label)) return false;
  }
  // A top-level domain is never all digits: "a@1.2" is not an address.
  for (char c : labels.back()) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

}  // namespace

NormalizedEmail NormalizeEmail(absl::string_view typed) {
  absl::string_view text = absl::StripAsciiWhitespace(typed);
  if (text.empty()) return {};
  const NormalizedEmail incorrect{.normalized = "",
                                  .state = ContactState::kIncorrect};

  // "Display Name <addr-spec>": keep what is inside the angle brackets.
  if (size_t open = text.rfind('<'); open != absl::string_view::npos) {
    if (text.back() != '>') return incorrect;
    text = absl::StripAsciiWhitespace(
        text.substr(open + 1, text.size() - open - 2));
  }
  if (text.size() > kMaxAddressLength) return incorrect;

  size_t at = text.find('@');
  if (at == absl::string_view::npos || text.find('@', at + 1) != text.npos) {
    return incorrect;
  }
  absl::string_view local = text.substr(0, at);
  absl::string_view domain = text.substr(at + 1);
  if (local.size() > kMaxLocalPartLength || !IsDotAtom(local) ||
      !IsDomain(domain)) {
    return incorrect;
  }
  return {.normalized = absl::AsciiStrToLower(text),
          .state = ContactState::kCorrect};
}

}  // namespace leadledger::domain
