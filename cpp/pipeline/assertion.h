// Internal assertions of the pipeline. TypeScript checks every shape, chunk and tile rule
// against the bundle's manifest (lib/rules.ts) before a job starts, so a failed assertion here
// means a bug or a direct call of the raw addon: it is ERR_ASSERTION, never a user's ERR_SHAPE.
#pragma once

#include <stdexcept>
#include <string>

namespace videovae {

class PipelineAssertion : public std::logic_error {
 public:
  explicit PipelineAssertion(const std::string& message)
      : std::logic_error("internal assertion failed: " + message) {}
};

inline void expect(bool condition, const std::string& message) {
  if (!condition) throw PipelineAssertion(message);
}

}  // namespace videovae
