// videovae_spm.so: SentencePiece behind a C interface (see spm_bridge.h for why it is a
// library of its own). No libtorch, no Node here.
#include "spm_bridge.h"

#if !__has_include(<sentencepiece_processor.h>)
#error "SentencePiece headers not found: apt-get install libsentencepiece-dev (or set SENTENCEPIECE_DIR to a build of it)"
#endif
#include <sentencepiece_processor.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace {

void SetError(char* error, size_t size, const std::string& message) {
  if (error == nullptr || size == 0) return;
  const size_t n = std::min(size - 1, message.size());
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

const sentencepiece::SentencePieceProcessor& Sp(const void* model) {
  return *static_cast<const sentencepiece::SentencePieceProcessor*>(model);
}

}  // namespace

extern "C" {

void* videovae_spm_load(const char* path, char* error, size_t error_size) {
  auto* sp = new sentencepiece::SentencePieceProcessor();
  const auto status = sp->Load(path);
  if (!status.ok()) {
    SetError(error, error_size, status.ToString());
    delete sp;
    return nullptr;
  }
  return sp;
}

void videovae_spm_free(void* model) { delete static_cast<sentencepiece::SentencePieceProcessor*>(model); }

int videovae_spm_piece_size(const void* model) { return Sp(model).GetPieceSize(); }

int videovae_spm_is_special(const void* model, int id) { return Sp(model).IsControl(id) || Sp(model).IsUnknown(id); }

const char* videovae_spm_piece(const void* model, int id, size_t* length) {
  const std::string& piece = Sp(model).IdToPiece(id);
  *length = piece.size();
  return piece.data();
}

int videovae_spm_encode(const void* model, const char* text, size_t length, int* ids, int capacity, char* error,
                        size_t error_size) {
  std::vector<int> out;
  const auto status = Sp(model).Encode(std::string_view(text, length), &out);
  if (!status.ok()) {
    SetError(error, error_size, status.ToString());
    return -1;
  }
  for (size_t i = 0; i < out.size() && i < static_cast<size_t>(capacity); ++i) ids[i] = out[i];
  return static_cast<int>(out.size());
}
}
