#include "warnings.h"

#include <c10/util/Exception.h>

#include <iostream>
#include <mutex>
#include <string>
#include <unordered_set>

namespace videovae {
namespace {

class OncePerMessage : public c10::WarningHandler {
 public:
  void process(const c10::Warning& warning) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!seen_.insert(warning.msg()).second) return;
    std::cerr << "[videovae] libtorch warning: " << warning.msg() << std::endl;
  }

 private:
  std::mutex mutex_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

void InstallWarningHandler() {
  // Process-wide and never freed: libtorch may warn from any thread until exit.
  static OncePerMessage* handler = [] {
    auto* h = new OncePerMessage();
    c10::WarningUtils::set_warning_handler(h);
    return h;
  }();
  (void)handler;
}

}  // namespace videovae
