// Running the project's binaries as child processes, for end-to-end tests.
#ifndef LEADLEDGER_TESTS_TESTING_SUBPROCESS_H_
#define LEADLEDGER_TESTS_TESTING_SUBPROCESS_H_

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

extern char** environ;

namespace leadledger::testing {

// Starts `argv` with stdout and stderr appended to `log_path`; returns the
// child's pid, or -1.
inline pid_t Spawn(const std::vector<std::string>& argv,
                   const std::string& log_path) {
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) !=
      0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// Waits for `pid` to end; returns its exit code, 128 + signal if a signal
// ended it, or nullopt if it is still running after `timeout` (it is then
// killed).
inline std::optional<int> WaitForExit(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    }
    if (done < 0) return std::nullopt;
    if (absl::Now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return std::nullopt;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

// The size of the file at `path`; 0 when there is none.
inline uintmax_t FileSize(const std::string& path) {
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

// Waits until the file at `path` is longer than `size` bytes (a child
// started with Spawn has written to its log), `pid` has ended, or `timeout`
// passed; returns whether the file grew. Children that start slowly (under
// a sanitizer, on a busy machine) are then killed at a moment that counts.
inline bool WaitForLogToGrow(const std::string& path, uintmax_t size, pid_t pid,
                             absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (FileSize(path) > size) return true;
    if (kill(pid, 0) != 0) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return false;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

struct CommandResult {
  int exit_code = -1;
  // Standard output and standard error, interleaved.
  std::string output;
};

// Runs `argv` to completion (at most `timeout`) and returns its exit code
// and output. `scratch` is a path for a temporary output file.
inline CommandResult RunCommand(const std::vector<std::string>& argv,
                                const std::string& scratch,
                                absl::Duration timeout = absl::Seconds(30)) {
  unlink(scratch.c_str());
  CommandResult result;
  pid_t pid = Spawn(argv, scratch);
  if (pid < 0) return result;
  result.exit_code = WaitForExit(pid, timeout).value_or(-1);
  result.output = ReadFile(scratch);
  return result;
}

}  // namespace leadledger::testing

#endif  // LEADLEDGER_TESTS_TESTING_SUBPROCESS_H_
