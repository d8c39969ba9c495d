#pragma once
// Errors are values: every fallible engine call returns a Status.
#include <string>
#include <utility>

namespace adarun {

// What kind of failure: the C API returns it as its status code, the CLI ignores it.
enum class StatusCode { kOk, kInvalidArgument, kIoError, kBadModel, kOutOfMemory, kInternal };

class Status {
 public:
  static Status ok() { return Status(); }
  // Most engine errors are a caller's bad option or input.
  static Status error(std::string message) { return Status(StatusCode::kInvalidArgument, std::move(message)); }
  static Status error(StatusCode code, std::string message) { return Status(code, std::move(message)); }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

}  // namespace adarun
