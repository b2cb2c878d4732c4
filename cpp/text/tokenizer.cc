#include "tokenizer.h"

#include <dlfcn.h>

#include <algorithm>
#include <mutex>

#include "../errors.h"
#include "../spm/spm_bridge.h"

namespace videovae {
namespace {

// The functions of videovae_spm.so, resolved once.
struct Bridge {
  decltype(&videovae_spm_load) load;
  decltype(&videovae_spm_free) free;
  decltype(&videovae_spm_piece_size) pieceSize;
  decltype(&videovae_spm_is_special) isSpecial;
  decltype(&videovae_spm_piece) piece;
  decltype(&videovae_spm_encode) encode;
};

std::string AddonDir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&AddonDir), &info) == 0 || info.dli_fname == nullptr) return ".";
  std::string path = info.dli_fname;
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

const Bridge& LoadBridge() {
  static std::once_flag once;
  static Bridge bridge{};
  static std::string failure;
  std::call_once(once, [] {
    const std::string path = AddonDir() + "/videovae_spm.so";
    // RTLD_LOCAL: SentencePiece must not share a symbol scope with libtorch.
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* why = dlerror();
      failure = "cannot load the caption tokenizer library " + path + " (" + (why ? why : "unknown error") +
                "): rebuild the addon (npm run build) with SentencePiece installed (apt-get install libsentencepiece-dev)";
      return;
    }
    bridge.load = reinterpret_cast<decltype(bridge.load)>(dlsym(lib, "videovae_spm_load"));
    bridge.free = reinterpret_cast<decltype(bridge.free)>(dlsym(lib, "videovae_spm_free"));
    bridge.pieceSize = reinterpret_cast<decltype(bridge.pieceSize)>(dlsym(lib, "videovae_spm_piece_size"));
    bridge.isSpecial = reinterpret_cast<decltype(bridge.isSpecial)>(dlsym(lib, "videovae_spm_is_special"));
    bridge.piece = reinterpret_cast<decltype(bridge.piece)>(dlsym(lib, "videovae_spm_piece"));
    bridge.encode = reinterpret_cast<decltype(bridge.encode)>(dlsym(lib, "videovae_spm_encode"));
    if (!bridge.load || !bridge.free || !bridge.pieceSize || !bridge.isSpecial || !bridge.piece || !bridge.encode) {
      failure = path + " is not the caption tokenizer library of this addon: rebuild it (npm run build)";
      bridge = {};
    }
  });
  if (!failure.empty()) throw CodedError("ERR_ADDON_LOAD", failure);
  return bridge;
}

}  // namespace

CaptionTokenizer::CaptionTokenizer(const std::string& model_path, TokenizerSpec spec) : spec_(spec) {
  const Bridge& spm = LoadBridge();
  char error[512] = {0};
  sp_ = spm.load(model_path.c_str(), error, sizeof error);
  if (sp_ == nullptr) {
    throw CodedError("ERR_BUNDLE", "cannot load the SentencePiece model " + model_path + ": " + error);
  }
  const int pieces = spm.pieceSize(sp_);
  if (spec_.extraIds < 0 || spec_.padId < 0 || spec_.padId >= pieces || spec_.eosId < 0 || spec_.eosId >= pieces) {
    spm.free(sp_);
    throw CodedError("ERR_BUNDLE", "the tokenizer's special ids do not fit " + model_path);
  }
  // What Hugging Face registers as special tokens: control and unknown pieces, and sentinels.
  for (int id = 0; id < pieces; ++id) {
    if (!spm.isSpecial(sp_, id)) continue;
    size_t length = 0;
    const char* piece = spm.piece(sp_, id, &length);
    if (length > 0) specials_.emplace_back(std::string(piece, length), id);
  }
  for (int64_t i = 0; i < spec_.extraIds; ++i) {
    specials_.emplace_back("<extra_id_" + std::to_string(i) + ">", static_cast<int32_t>(pieces + spec_.extraIds - 1 - i));
  }
  std::stable_sort(specials_.begin(), specials_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

CaptionTokenizer::~CaptionTokenizer() { LoadBridge().free(sp_); }

int64_t CaptionTokenizer::Pieces() const { return LoadBridge().pieceSize(sp_); }
int64_t CaptionTokenizer::VocabSize() const { return Pieces() + spec_.extraIds; }

void CaptionTokenizer::EncodePlain(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  const Bridge& spm = LoadBridge();
  char error[512] = {0};
  const size_t start = out.size();
  out.resize(start + text.size() + 8);  // at most one id per byte (plus a prefix piece)
  int n = spm.encode(sp_, text.data(), text.size(), out.data() + start, static_cast<int>(out.size() - start), error,
                     sizeof error);
  if (n > static_cast<int>(out.size() - start)) {  // never expected; retry with the exact size
    out.resize(start + static_cast<size_t>(n));
    n = spm.encode(sp_, text.data(), text.size(), out.data() + start, n, error, sizeof error);
  }
  if (n < 0) throw CodedError("ERR_TEXT", std::string("SentencePiece could not encode a caption: ") + error);
  out.resize(start + static_cast<size_t>(n));
}

TokenizedCaption CaptionTokenizer::Encode(std::string_view text, int64_t max_length) const {
  if (max_length < 1) throw CodedError("ERR_ARGUMENT", "max_length must be at least 1");
  std::vector<int32_t> tokens;
  size_t plain_start = 0, pos = 0;
  while (pos < text.size()) {
    const std::pair<std::string, int32_t>* match = nullptr;
    for (const auto& special : specials_) {  // longest first: the leftmost-longest match
      if (text.compare(pos, special.first.size(), special.first) == 0) {
        match = &special;
        break;
      }
    }
    if (match == nullptr) {
      ++pos;
      continue;
    }
    EncodePlain(text.substr(plain_start, pos - plain_start), tokens);
    tokens.push_back(match->second);
    pos += match->first.size();
    plain_start = pos;
  }
  EncodePlain(text.substr(plain_start), tokens);

  TokenizedCaption out;
  out.fullLength = static_cast<int64_t>(tokens.size()) + 1;
  const auto kept = std::min<int64_t>(static_cast<int64_t>(tokens.size()), max_length - 1);
  out.ids.assign(tokens.begin(), tokens.begin() + kept);
  out.ids.push_back(static_cast<int32_t>(spec_.eosId));
  out.length = kept + 1;
  out.ids.resize(static_cast<size_t>(max_length), static_cast<int32_t>(spec_.padId));
  return out;
}

}  // namespace videovae
