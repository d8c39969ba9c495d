#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/src/pictures.h"

namespace {

using adarun::Picture;

// The PASCAL VOC colour of a class, spelled out: bit 3j + c of the class is bit 7 - j of channel c.
std::vector<int> voc_colour(int64_t label) {
  std::vector<int> rgb(3, 0);
  for (int j = 0; j < 8; ++j) {
    for (int c = 0; c < 3; ++c) rgb[c] |= static_cast<int>(((label >> (3 * j + c)) & 1) << (7 - j));
  }
  return rgb;
}

std::vector<int> pixel(const Picture& picture, int64_t x, int64_t y) {
  const uint8_t* p = picture.at(x, y);
  return {p[0], p[1], p[2]};
}

bool is_white(const Picture& picture, int64_t x, int64_t y) { return pixel(picture, x, y) == std::vector<int>{255, 255, 255}; }

// The bounding box of the non-white pixels in [x0, x1) x [y0, y1): {min x, min y, max x, max y}, or empty.
std::vector<int64_t> ink_box(const Picture& picture, int64_t x0, int64_t y0, int64_t x1, int64_t y1) {
  std::vector<int64_t> box;
  for (int64_t y = y0; y < y1; ++y) {
    for (int64_t x = x0; x < x1; ++x) {
      if (is_white(picture, x, y)) continue;
      if (box.empty()) box = {x, y, x, y};
      box = {std::min(box[0], x), std::min(box[1], y), std::max(box[2], x), std::max(box[3], y)};
    }
  }
  return box;
}

// A size x size RGB8 picture whose every byte is its own function of position and channel.
std::vector<uint8_t> test_pattern(int64_t size) {
  std::vector<uint8_t> rgb(static_cast<size_t>(size * size * 3));
  for (int64_t y = 0; y < size; ++y) {
    for (int64_t x = 0; x < size; ++x) {
      for (int64_t c = 0; c < 3; ++c) rgb[static_cast<size_t>((y * size + x) * 3 + c)] = static_cast<uint8_t>((x * 3 + y * 5 + c * 70) % 256);
    }
  }
  return rgb;
}

// One stage of `blocks` blocks over resolution x resolution tokens.
adarun::FrameStats one_stage(const std::vector<std::vector<uint8_t>>& masks, const std::vector<uint8_t>& gates) {
  adarun::FrameStats stats;
  stats.blocks = {gates};
  stats.tokens_kept = {std::vector<int64_t>(gates.size(), 0)};
  stats.token_masks = {masks};
  for (size_t j = 0; j < gates.size(); ++j) {
    if (!gates[j]) continue;
    stats.tokens_kept[0][j] = masks[j].empty() ? 1 : std::count(masks[j].begin(), masks[j].end(), 1);
  }
  stats.macs_executed = 1, stats.macs_static = 2;
  return stats;
}

}  // namespace

TEST_CASE("side_by_side puts each picture's rows after the previous picture's, left to right") {
  constexpr int64_t kSize = 2;
  const std::vector<uint8_t> first(kSize * kSize * 3, 1), second(kSize * kSize * 3, 2);
  const std::vector<uint8_t> both = adarun::side_by_side({first, second}, kSize);
  REQUIRE(both.size() == 2 * first.size());
  for (int64_t y = 0; y < kSize; ++y) {
    for (int64_t x = 0; x < 2 * kSize; ++x) {
      CAPTURE(x);
      CHECK(both[static_cast<size_t>((y * 2 * kSize + x) * 3)] == (x < kSize ? 1 : 2));
    }
  }
}

TEST_CASE("text: ink inside its line, scale 2 is scale 1 doubled, unprintable bytes drawn as '?'") {
  const uint8_t black[3] = {0, 0, 0};
  const std::string text = "semseg 0: Ag|";
  const int64_t width = adarun::text_width(text, 1);
  CHECK(width > 6 * static_cast<int64_t>(text.size()) - 20);
  CHECK(adarun::text_width(text, 3) == 3 * width);
  Picture one(width + 20, 30, 255), two(2 * width + 40, 60, 255);
  adarun::draw_text(&one, 5, 4, text, 1, black);
  adarun::draw_text(&two, 10, 8, text, 2, black);
  const std::vector<int64_t> box = ink_box(one, 0, 0, one.width, one.height);
  REQUIRE(box.size() == 4);
  CHECK(box[0] >= 5);
  CHECK(box[2] < 5 + width);
  CHECK(box[1] >= 4);
  CHECK(box[3] < 4 + 12);
  for (int64_t y = 0; y < two.height; ++y) {
    for (int64_t x = 0; x < two.width; ++x) {
      CAPTURE(x);
      CAPTURE(y);
      REQUIRE(pixel(two, x, y) == pixel(one, x / 2, y / 2));
    }
  }
  Picture odd(40, 20, 255), question(40, 20, 255);
  adarun::draw_text(&odd, 2, 2, "a\x01\xe9", 1, black);
  adarun::draw_text(&question, 2, 2, "a??", 1, black);
  CHECK(odd.rgb == question.rgb);
  Picture clipped(8, 8, 255);  // text running off the picture is cut, not wrapped
  adarun::draw_text(&clipped, -3, -3, "WWWW", 1, black);
  CHECK_FALSE(ink_box(clipped, 0, 0, 8, 8).empty());
}

TEST_CASE("class labels: known datasets by name, others by index") {
  CHECK(adarun::class_labels("semseg", 21)[15] == "15 person");
  CHECK(adarun::class_labels("semseg", 40)[0] == "0 wall");
  CHECK(adarun::class_labels("semseg", 5)[3] == "3 triangle");
  CHECK(adarun::class_labels("human_parts", 7)[1] == "1 head");
  CHECK(adarun::class_labels("semseg", 6) == std::vector<std::string>{"0", "1", "2", "3", "4", "5"});
  CHECK(adarun::is_class_map("semseg", 21));
  CHECK(adarun::is_class_map("human_parts", 7));
  CHECK_FALSE(adarun::is_class_map("normals", 3));
  CHECK_FALSE(adarun::is_class_map("sal", 1));
  CHECK_FALSE(adarun::is_class_map("depth", 1));
  for (int64_t label : {0, 1, 5, 15, 20, 39}) {
    uint8_t rgb[3];
    adarun::palette_colour(label, rgb);
    CHECK(std::vector<int>{rgb[0], rgb[1], rgb[2]} == voc_colour(label));
  }
}

TEST_CASE("summary: a centred caption above each picture, the pictures unchanged, legends below the class maps") {
  constexpr int64_t kSize = 96;
  const std::vector<uint8_t> first = test_pattern(kSize), second(kSize * kSize * 3, 7);
  const std::vector<std::string> labels = adarun::class_labels("semseg", 5);
  const Picture summary = adarun::summary_picture({{first, "input", {}}, {second, "semseg", labels}}, kSize);
  const int64_t strip = adarun::strip_height(kSize);
  REQUIRE(strip == 14);
  const Picture legend = adarun::legend_picture(labels, kSize, 1);
  CHECK(summary.width == 2 * kSize);
  CHECK(summary.height == strip + kSize + legend.height);
  // Legend: entries (8 px swatch, 3 px, the widest label, 6 px) in rows of as many as fit in 96 - 2 px, 12 px a row.
  int64_t widest = 0;
  for (const std::string& label : labels) widest = std::max(widest, adarun::text_width(label, 1));
  const int64_t entry = 8 + 3 + widest + 6, per_row = (kSize - 2) / entry;
  REQUIRE(per_row >= 1);
  CHECK(legend.height == (5 + per_row - 1) / per_row * 12 + 4);
  for (int64_t y = 0; y < kSize; ++y) {
    for (int64_t x = 0; x < kSize; ++x) {
      for (int64_t c = 0; c < 3; ++c) {
        REQUIRE(int(summary.at(x, strip + y)[c]) == int(first[static_cast<size_t>((y * kSize + x) * 3 + c)]));
        REQUIRE(int(summary.at(kSize + x, strip + y)[c]) == 7);
      }
    }
  }
  for (int64_t k = 0; k < 2; ++k) {  // captions: ink in the strip, centred over their picture
    const std::string caption = k == 0 ? "input" : "semseg";
    const int64_t start = k * kSize + (kSize - adarun::text_width(caption, 1)) / 2;
    const std::vector<int64_t> box = ink_box(summary, k * kSize, 0, (k + 1) * kSize, strip);
    REQUIRE(box.size() == 4);
    CHECK(box[0] >= start);
    CHECK(box[2] < start + adarun::text_width(caption, 1));
    CHECK(box[1] >= 2);
  }
  for (int64_t c = 0; c < 5; ++c) {  // each swatch's middle in its class's colour
    CAPTURE(c);
    const int64_t x = 2 + (c % per_row) * entry + 4, y = strip + kSize + 2 + (c / per_row) * 12 + 4;
    CHECK(pixel(summary, kSize + x, y) == voc_colour(c));
  }
  CHECK(ink_box(summary, 0, strip + kSize, kSize, summary.height).empty());  // no legend under the input
  const Picture no_legends = adarun::summary_picture({{first, "input", {}}}, kSize);
  CHECK(no_legends.height == strip + kSize);
}

TEST_CASE("compute: a token mask that keeps the left half brightens exactly the left half of its stage's panel") {
  constexpr int64_t kSize = 64, kResolution = 16;  // 4-pixel tokens: no grid
  const std::vector<uint8_t> input = test_pattern(kSize);
  std::vector<uint8_t> left(kResolution * kResolution, 0), all(kResolution * kResolution, 1), none(kResolution * kResolution, 0);
  for (int64_t t = 0; t < kResolution * kResolution; ++t) left[static_cast<size_t>(t)] = t % kResolution < kResolution / 2;
  const int64_t strip = adarun::strip_height(kSize);
  // Block 0 keeps the left half; block 1 is gated off; in the second picture block 2 keeps every token.
  for (bool third : {false, true}) {
    CAPTURE(third);
    const adarun::FrameStats stats = one_stage({left, none, all}, {1, 0, static_cast<uint8_t>(third)});
    const Picture picture = adarun::compute_picture(input, kSize, stats, {kResolution});
    REQUIRE(picture.width == kSize);
    REQUIRE(picture.height == kSize + 3 * strip);
    for (int64_t y = 0; y < kSize; ++y) {
      for (int64_t x = 0; x < kSize; ++x) {
        const double gain = x < kSize / 2 ? 1.0 : third ? 0.625 : 0.25;  // 0.25 + 0.75 x (blocks that kept it / blocks run)
        for (int64_t c = 0; c < 3; ++c) {
          CAPTURE(x);
          CAPTURE(y);
          const double value = input[static_cast<size_t>((y * kSize + x) * 3 + c)] * gain;
          REQUIRE(int(picture.at(x, 2 * strip + y)[c]) == int(std::lround(value)));
        }
      }
    }
    // The gate strip: a green square for each block that ran, a red outline (white inside) for the skipped one.
    for (int64_t block = 0; block < 3; ++block) {
      CAPTURE(block);
      const adarun::GateSquare square = adarun::gate_square(kSize, 3, block);
      CHECK(square.side == std::min<int64_t>(10, (kSize - 4) / 3 - 2));
      CHECK(square.x == 2 + block * (square.side + 2));
      const int64_t x = square.x, y = 2 * strip + kSize + square.y, middle = square.side / 2;
      const bool ran = block == 0 || (block == 2 && third);
      CHECK(pixel(picture, x + middle, y + middle) == (ran ? std::vector<int>{46, 160, 67} : std::vector<int>{255, 255, 255}));
      CHECK(pixel(picture, x, y + middle) == (ran ? std::vector<int>{46, 160, 67} : std::vector<int>{200, 60, 60}));
      CHECK(is_white(picture, x + square.side, y + middle));
    }
    CHECK_FALSE(ink_box(picture, 0, 0, kSize, strip).empty());  // the title
    CHECK_FALSE(ink_box(picture, 0, strip, kSize, 2 * strip).empty());  // the stage's caption
  }
}

TEST_CASE("compute: stages side by side, a grid over tokens of 8 pixels or more, no token gating, a stage that ran nothing") {
  constexpr int64_t kSize = 32;
  const std::vector<uint8_t> input(kSize * kSize * 3, 200);
  adarun::FrameStats stats;
  stats.blocks = {{1, 1}, {0}};  // stage 0 (4 x 4 tokens of 8 pixels): both blocks ran, no token gating; stage 1 ran nothing
  stats.tokens_kept = {{16, 16}, {0}};
  stats.token_masks = {{{}, {}}, {{}}};
  const Picture picture = adarun::compute_picture(input, kSize, stats, {4, 2});
  const int64_t strip = adarun::strip_height(kSize);
  REQUIRE(picture.width == 2 * kSize);
  REQUIRE(picture.height == kSize + 3 * strip);
  for (int64_t y = 0; y < kSize; ++y) {
    for (int64_t x = 0; x < kSize; ++x) {
      CAPTURE(x);
      CAPTURE(y);
      const bool line = (x > 0 && x % 8 == 0) || (y > 0 && y % 8 == 0);  // stage 0's token edges
      REQUIRE(int(picture.at(x, 2 * strip + y)[1]) == (line ? (200 + 128) / 2 : 200));
      const bool line1 = (x > 0 && x % 16 == 0) || (y > 0 && y % 16 == 0);  // stage 1: 16-pixel tokens, all dark
      REQUIRE(int(picture.at(kSize + x, 2 * strip + y)[1]) == (line1 ? (50 + 128) / 2 : 50));
    }
  }
  const std::vector<float> fraction = adarun::kept_fraction(stats, 0, 16);
  CHECK(std::all_of(fraction.begin(), fraction.end(), [](float f) { return f == 1.0f; }));
}
