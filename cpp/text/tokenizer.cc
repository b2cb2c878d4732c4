#include "tokenizer.h"

#if !__has_include(<sentencepiece_processor.h>)
#error "SentencePiece headers not found: apt-get install libsentencepiece-dev (or set SENTENCEPIECE_DIR to a build of it)"
#endif
#include <sentencepiece_processor.h>

#include <algorithm>

#include "../errors.h"

namespace videovae {

CaptionTokenizer::CaptionTokenizer(const std::string& model_path, TokenizerSpec spec)
    : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()), spec_(spec) {
  const auto status = sp_->Load(model_path);
  if (!status.ok()) {
    throw CodedError("ERR_BUNDLE", "cannot load the SentencePiece model " + model_path + ": " + status.ToString());
  }
  const int pieces = sp_->GetPieceSize();
  if (spec_.extraIds < 0 || spec_.padId < 0 || spec_.padId >= pieces || spec_.eosId < 0 || spec_.eosId >= pieces) {
    throw CodedError("ERR_BUNDLE", "the tokenizer's special ids do not fit " + model_path);
  }
  // What Hugging Face registers as special tokens: control and unknown pieces, and sentinels.
  for (int id = 0; id < pieces; ++id) {
    if (sp_->IsControl(id) || sp_->IsUnknown(id)) specials_.emplace_back(sp_->IdToPiece(id), id);
  }
  for (int64_t i = 0; i < spec_.extraIds; ++i) {
    specials_.emplace_back("<extra_id_" + std::to_string(i) + ">", static_cast<int32_t>(pieces + spec_.extraIds - 1 - i));
  }
  std::erase_if(specials_, [](const auto& s) { return s.first.empty(); });
  std::stable_sort(specials_.begin(), specials_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
}

CaptionTokenizer::~CaptionTokenizer() = default;

int64_t CaptionTokenizer::Pieces() const { return sp_->GetPieceSize(); }
int64_t CaptionTokenizer::VocabSize() const { return Pieces() + spec_.extraIds; }

void CaptionTokenizer::EncodePlain(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  std::vector<int> ids;
  const auto status = sp_->Encode(text, &ids);
  if (!status.ok()) throw CodedError("ERR_TEXT", "SentencePiece could not encode a caption: " + status.ToString());
  out.insert(out.end(), ids.begin(), ids.end());
}

TokenizedCaption CaptionTokenizer::Encode(std::string_view text, int64_t max_length) const {
  if (max_length < 1) throw CodedError("ERR_ARGUMENT", "max_length must be at least 1");
  std::vector<int32_t> tokens;
  size_t plain_start = 0, pos = 0;
  while (pos < text.size()) {
    const auto* match = static_cast<const std::pair<std::string, int32_t>*>(nullptr);
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
