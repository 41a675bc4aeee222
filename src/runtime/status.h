// Status: the error type of the C++ core.
//
// The core is built without C++ exceptions (they cost a JS trampoline per call
// in Emscripten 3.1.6), so every fallible function returns a Status or takes a
// Status* and leaves it unchanged on success. A message is written for a
// person: it names the thing that is wrong and, where possible, what to do.
#pragma once

#include <string>
#include <utility>

namespace nibble {

// What kind of mistake; web/ maps it to the matching JS Error subclass.
enum class ErrorKind {
  kNone = 0,
  kInvalidArgument,  // wrong type or value (JS TypeError)
  kOutOfRange,       // a size, shape or index out of bounds (JS RangeError)
  kFormat,           // malformed or unsupported file contents (JS Error)
  kState,            // misuse: use after dispose, wrong order of calls (JS Error)
  kResource,         // out of memory, too large (JS Error)
};

class Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(ErrorKind kind, std::string message) {
    Status s;
    s.kind_ = kind;
    s.message_ = std::move(message);
    return s;
  }
  bool ok() const { return kind_ == ErrorKind::kNone; }
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }

 private:
  ErrorKind kind_ = ErrorKind::kNone;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return Status::Error(ErrorKind::kInvalidArgument, std::move(m)); }
inline Status OutOfRange(std::string m) { return Status::Error(ErrorKind::kOutOfRange, std::move(m)); }
inline Status FormatError(std::string m) { return Status::Error(ErrorKind::kFormat, std::move(m)); }
inline Status StateError(std::string m) { return Status::Error(ErrorKind::kState, std::move(m)); }
inline Status ResourceError(std::string m) { return Status::Error(ErrorKind::kResource, std::move(m)); }

}  // namespace nibble

// Propagate a failed Status to the caller.
#define NIBBLE_RETURN_IF_ERROR(expr)        \
  do {                                      \
    ::nibble::Status nibble_status_ = (expr); \
    if (!nibble_status_.ok()) return nibble_status_; \
  } while (0)
