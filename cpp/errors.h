// Errors with stable codes. C++ code throws CodedError (or lets libtorch throw c10::Error);
// every entry point and every Job catches and turns the exception into a JS Error whose
// `code` property is one of the strings below. The process never aborts on a bad input.
#pragma once

#include <napi.h>

#include <exception>
#include <stdexcept>
#include <string>

namespace videovae {

namespace code {
inline constexpr const char* kDisposed = "ERR_DISPOSED";
inline constexpr const char* kShape = "ERR_SHAPE";
inline constexpr const char* kDtype = "ERR_DTYPE";
inline constexpr const char* kDevice = "ERR_DEVICE";
inline constexpr const char* kNotFound = "ERR_NOT_FOUND";
inline constexpr const char* kModule = "ERR_MODULE";
inline constexpr const char* kBundle = "ERR_BUNDLE";
inline constexpr const char* kArgument = "ERR_ARGUMENT";
inline constexpr const char* kOutOfMemory = "ERR_OUT_OF_MEMORY";
inline constexpr const char* kUnsupported = "ERR_UNSUPPORTED";
inline constexpr const char* kLibtorch = "ERR_LIBTORCH";
inline constexpr const char* kInternal = "ERR_INTERNAL";
}  // namespace code

class CodedError : public std::runtime_error {
 public:
  CodedError(const char* code, const std::string& message) : std::runtime_error(message), code_(code) {}
  const char* code() const noexcept { return code_; }

 private:
  const char* code_;
};

// A caught exception reduced to what JS needs: a code and a clean one-paragraph message.
struct ErrorInfo {
  std::string code;
  std::string message;
};

// Call inside a catch block (uses std::current_exception). Understands CodedError,
// c10::Error (backtrace stripped; code from its type: IndexError, ValueError, OutOfMemoryError...,
// else guessed from the message), a TorchScript `raise XxxError` (code from the Python class),
// std::exception, anything.
ErrorInfo DescribeCurrentException();

Napi::Error MakeError(Napi::Env env, const ErrorInfo& info);

// Runs `body` and converts any C++ exception into a thrown JS error with a code.
// Every synchronous native function goes through this: nothing escapes to std::terminate.
template <typename Body>
Napi::Value Guard(const Napi::CallbackInfo& info, Body&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;  // already a JS error: node-addon-api rethrows it into JS
  } catch (...) {
    throw MakeError(info.Env(), DescribeCurrentException());
  }
}

}  // namespace videovae
