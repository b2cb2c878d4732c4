#include "errors.h"

#include "pipeline/assertion.h"

#include <c10/util/Exception.h>
#include <torch/csrc/jit/runtime/jit_exception.h>

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
  // CAFFE_ENFORCE prefixes "[enforce fail at alloc_cpu.cpp:127] ": a C++ location, not for users.
  static const std::regex kEnforce(R"(\[enforce fail at [^\]]*\] )");
  text = std::regex_replace(text, kEnforce, "");
  std::istringstream lines(text);
  std::string line, kept;
  while (std::getline(lines, line)) {
    if (line.rfind("Exception raised from", 0) == 0 || line.rfind("frame #", 0) == 0) break;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    kept += (kept.empty() ? "" : "\n") + line;
  }
  return kept.empty() ? text : kept;
}

// The fallback when the exception's type says nothing (c10::Error, or anything the TorchScript
// interpreter rethrew as a runtime_error): guess from the message's words.
const char* CodeForTorchMessage(const std::string& m) {
  // The TorchScript interpreter rethrows an OutOfMemoryError as a plain runtime_error, and the
  // CPU allocator reports a failed allocation as a plain c10::Error (CAFFE_ENFORCE).
  if (Contains(m, "out of memory") || Contains(m, "out of host memory") || Contains(m, "not enough memory") ||
      Contains(m, "can't allocate memory")) {
    return code::kOutOfMemory;
  }
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

// A TorchScript `raise IndexError(...)` keeps its Python class name: map it like the c10 types.
const char* CodeForScriptClass(const std::string& qualified, const std::string& message) {
  std::string name = qualified.substr(qualified.rfind('.') + 1);  // "builtins.IndexError" -> "IndexError"
  if (name == "IndexError") return code::kShape;
  if (name == "ValueError" || name == "TypeError") return code::kArgument;
  if (name == "NotImplementedError") return code::kUnsupported;
  if (name == "MemoryError") return code::kOutOfMemory;
  return CodeForTorchMessage(message);
}

}  // namespace

ErrorInfo DescribeCurrentException() {
  try {
    throw;
  } catch (const CodedError& e) {
    return {e.code(), e.what()};
  } catch (const PipelineAssertion& e) {
    // TypeScript validated the job against the bundle's rules: reaching this is a bug (or a
    // direct call of the raw addon), not a user's shape error.
    return {"ERR_ASSERTION", e.what()};
  }
  // libtorch's exception types say which contract was broken: trust them before the message.
  catch (const c10::OutOfMemoryError& e) {
    return {code::kOutOfMemory, CleanTorchMessage(e.what_without_backtrace())};
  } catch (const c10::IndexError& e) {
    return {code::kShape, CleanTorchMessage(e.what_without_backtrace())};
  } catch (const c10::ValueError& e) {
    return {code::kArgument, CleanTorchMessage(e.what_without_backtrace())};
  } catch (const c10::TypeError& e) {
    // TORCH_CHECK_TYPE also reports dtype mismatches: keep ERR_DTYPE for those.
    std::string message = CleanTorchMessage(e.what_without_backtrace());
    const char* by_message = CodeForTorchMessage(message);
    return {by_message == code::kDtype ? code::kDtype : code::kArgument, message};
  } catch (const c10::NotImplementedError& e) {
    return {code::kUnsupported, CleanTorchMessage(e.what_without_backtrace())};
  } catch (const c10::Error& e) {
    std::string message = CleanTorchMessage(e.what_without_backtrace());
    return {CodeForTorchMessage(message), message};
  } catch (const torch::jit::JITException& e) {
    std::string message = CleanTorchMessage(e.what());
    return {CodeForScriptClass(e.getPythonClassName().value_or(""), message), message};
  } catch (const std::bad_alloc&) {
    return {code::kOutOfMemory, "out of memory"};
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
