#include "errors.h"

#include <c10/util/Exception.h>

#include <regex>
#include <sstream>

namespace videovae {
namespace {

bool Contains(const std::string& text, const char* needle) { return text.find(needle) != std::string::npos; }

// libtorch messages carry C++ frames and TorchScript tracebacks: keep only what a user reads.
std::string CleanTorchMessage(std::string text) {
  // A TorchScript interpreter failure ends with the Python-style "XxxError: message" line(s).
  static const std::regex kScriptError(R"((?:^|\n)(?:[A-Za-z.]*Error|Exception): ([\s\S]*)$)");
  if (Contains(text, "TorchScript")) {
    std::smatch m;
    std::string::const_iterator start = text.begin();
    std::string last;
    while (std::regex_search(start, text.cend(), m, kScriptError)) {
      last = m[1].str();
      start = m[1].first;
    }
    if (!last.empty()) text = last;
  }
  std::istringstream lines(text);
  std::string line, kept;
  while (std::getline(lines, line)) {
    if (line.rfind("Exception raised from", 0) == 0 || line.rfind("frame #", 0) == 0) break;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    kept += (kept.empty() ? "" : "\n") + line;
  }
  return kept.empty() ? text : kept;
}

// libtorch has few exception types: the message says which contract was broken.
const char* CodeForTorchMessage(const std::string& m) {
  if (Contains(m, "same device") || Contains(m, "CUDA") || Contains(m, "cuda") ||
      Contains(m, "device type")) {
    return code::kDevice;
  }
  if (Contains(m, "scalar type") || Contains(m, "dtype") || Contains(m, "should be the same") ||
      Contains(m, "ScalarType")) {
    return code::kDtype;
  }
  if (Contains(m, "size") || Contains(m, "shape") || Contains(m, "dimension") || Contains(m, "channels") ||
      Contains(m, "dim ") || Contains(m, "-D input") || Contains(m, "out of range") ||
      Contains(m, "cannot be multiplied")) {
    return code::kShape;
  }
  return code::kLibtorch;
}

}  // namespace

ErrorInfo DescribeCurrentException() {
  try {
    throw;
  } catch (const CodedError& e) {
    return {e.code(), e.what()};
  } catch (const c10::Error& e) {
    std::string message = CleanTorchMessage(e.what_without_backtrace());
    return {CodeForTorchMessage(message), message};
  } catch (const std::bad_alloc&) {
    return {code::kLibtorch, "out of memory"};
  } catch (const std::exception& e) {
    std::string message = CleanTorchMessage(e.what());
    return {CodeForTorchMessage(message), message};
  } catch (...) {
    return {code::kInternal, "unknown native exception"};
  }
}

Napi::Error MakeError(Napi::Env env, const ErrorInfo& info) {
  Napi::Error error = Napi::Error::New(env, info.message);
  error.Set("code", Napi::String::New(env, info.code));
  return error;
}

}  // namespace videovae
