#include "eventstore/fingerprint.h"

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "eventstore/keys.h"

namespace leadledger::eventstore {
namespace {

// Two 64-bit FNV-1a lanes with different offset bases; each field is
// length-prefixed so that ("ab","c") and ("a","bc") differ.
class Fnv128 {
 public:
  void Add(absl::string_view bytes) {
    AddNumber(bytes.size());
    for (char c : bytes) AddByte(static_cast<unsigned char>(c));
  }
  void AddNumber(uint64_t number) {
    for (int i = 0; i < 8; ++i) AddByte((number >> (8 * i)) & 0xff);
  }
  std::string Digest() const { return EncodeUint64(a_) + EncodeUint64(b_); }

 private:
  void AddByte(unsigned char byte) {
    a_ = (a_ ^ byte) * kPrime;
    b_ = (b_ ^ byte ^ 0x5c) * kPrime;
  }
  static constexpr uint64_t kPrime = 0x100000001b3ull;
  uint64_t a_ = 0xcbf29ce484222325ull;
  uint64_t b_ = 0x84222325cbf29ce4ull;
};

}  // namespace

std::string FingerprintWrites(const AppendRequest& request) {
  Fnv128 fnv;
  fnv.AddNumber(request.writes.size());
  for (const StreamWrite& write : request.writes) {
    fnv.Add(write.stream);
    fnv.AddNumber(static_cast<uint64_t>(write.expected_version.kind()));
    fnv.AddNumber(static_cast<uint64_t>(write.expected_version.version()));
    fnv.AddNumber(write.events.size());
    for (const NewEvent& event : write.events) {
      fnv.Add(event.event_id);
      fnv.Add(event.type);
      fnv.AddNumber(event.schema_version);
      fnv.Add(event.payload);
    }
  }
  return fnv.Digest();
}

}  // namespace leadledger::eventstore
