// The T5 caption tokenizer: SentencePiece plus the rules of the Hugging Face T5 tokenizer
// (the official embedder's), so that ids match it exactly:
//   - special tokens (<pad>, </s>, <unk>, the sentinels <extra_id_N>) written in the text are
//     split out first, leftmost-longest, and map to their ids; the rest is encoded by
//     SentencePiece piece by piece;
//   - </s> is appended; content past max_length - 1 tokens is dropped (</s> stays last);
//   - the sequence is padded to max_length with the pad id; the mask marks the real tokens.
// SentencePiece itself lives in videovae_spm.so beside the addon, loaded on first use (see
// cpp/spm/spm_bridge.h for why). No libtorch here: this translation unit stays light.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace videovae {

struct TokenizerSpec {
  int64_t extraIds = 100;  // sentinels <extra_id_0..N-1>, numbered down from the top of the vocabulary
  int64_t padId = 0;
  int64_t eosId = 1;
};

struct TokenizedCaption {
  std::vector<int32_t> ids;  // exactly max_length: tokens, </s>, then padding
  int64_t length = 0;        // real tokens kept, </s> included (the mask's ones)
  int64_t fullLength = 0;    // tokens before truncation, </s> included
};

class CaptionTokenizer {
 public:
  // Throws CodedError(ERR_BUNDLE) when the file is not a usable SentencePiece model.
  CaptionTokenizer(const std::string& model_path, TokenizerSpec spec);
  ~CaptionTokenizer();
  CaptionTokenizer(const CaptionTokenizer&) = delete;
  CaptionTokenizer& operator=(const CaptionTokenizer&) = delete;

  TokenizedCaption Encode(std::string_view text, int64_t max_length) const;

  // SentencePiece pieces plus the sentinels: ids are below this.
  int64_t VocabSize() const;
  int64_t Pieces() const;

 private:
  void EncodePlain(std::string_view text, std::vector<int32_t>& out) const;

  void* sp_ = nullptr;  // the bridge's model handle
  TokenizerSpec spec_;
  std::vector<std::pair<std::string, int32_t>> specials_;  // longest first
};

}  // namespace videovae
