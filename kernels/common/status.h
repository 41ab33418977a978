#pragma once
/// \file Status returned by every host launcher: CUDA failures become values, never exit().

#include <string>
#include <utility>

namespace jevons::kernels {

class Status {
 public:
  static Status ok_status() { return Status(); }
  static Status error(std::string message) { return Status(std::move(message)); }
  bool ok() const { return message_.empty(); }
  const std::string& message() const { return message_; }

 private:
  Status() = default;
  explicit Status(std::string m) : message_(m.empty() ? "unknown error" : std::move(m)) {}
  std::string message_;
};

}  // namespace jevons::kernels
