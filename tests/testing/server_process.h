// A leadledgerd process on an ephemeral port, for tests that drive the real
// binary.
#ifndef LEADLEDGER_TESTS_TESTING_SERVER_PROCESS_H_
#define LEADLEDGER_TESTS_TESTING_SERVER_PROCESS_H_

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace leadledger::testing {

class ServerProcess {
 public:
  // Starts `binary` on 127.0.0.1:0 over `data_dir`, with `extra_args`;
  // its output goes to server.log in `dir`.
  ServerProcess(const std::string& binary, const TempDir& dir,
                const std::string& data_dir,
                const std::vector<std::string>& extra_args = {})
      : port_file_(dir.Sub("port")), log_(dir.Sub("server.log")) {
    unlink(port_file_.c_str());
    std::vector<std::string> argv = {binary, "--listen=127.0.0.1:0",
                                     "--data_dir=" + data_dir,
                                     "--port_file=" + port_file_};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    pid_ = Spawn(argv, log_);
  }
  ~ServerProcess() { Kill(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Waits until the server has written its port; false if it died or took
  // too long.
  bool WaitUntilServing(absl::Duration timeout = absl::Seconds(30)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline && pid_ > 0) {
      int port = 0;
      if (absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(port_file_)),
                           &port) &&
          port > 0) {
        port_ = port;
        return true;
      }
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  // Sends SIGTERM and returns the exit code.
  std::optional<int> Terminate() {
    kill(pid_, SIGTERM);
    std::optional<int> code = WaitForExit(pid_, absl::Seconds(30));
    pid_ = -1;
    return code;
  }

  // SIGKILLs the server (as a crash would) and reaps it.
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    WaitForExit(pid_, absl::Seconds(10));
    pid_ = -1;
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  // -1 once it ended.
  pid_t pid() const { return pid_; }
  std::string log() const { return ReadFile(log_); }

 private:
  std::string port_file_;
  std::string log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace leadledger::testing

#endif  // LEADLEDGER_TESTS_TESTING_SERVER_PROCESS_H_
