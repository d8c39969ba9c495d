#include "engine/src/pictures.h"

#include <stb_easy_font.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace adarun {
namespace {

const uint8_t kBlack[3] = {0, 0, 0};
const uint8_t kRan[3] = {46, 160, 67};      // a block that ran: a green square
const uint8_t kSkipped[3] = {200, 60, 60};  // a skipped block: a red outline

uint8_t to_byte(float unit) { return static_cast<uint8_t>(std::lround(std::clamp(unit, 0.0f, 1.0f) * 255.0f)); }

void draw_argmax(const float* logits, int64_t outputs, int64_t pixels, uint8_t* rgb) {
  for (int64_t p = 0; p < pixels; ++p) {
    int64_t best = 0;
    for (int64_t c = 1; c < outputs; ++c) {
      if (logits[c * pixels + p] > logits[best * pixels + p]) best = c;
    }
    palette_colour(best, rgb + 3 * p);
  }
}

void draw_sigmoid(const float* logits, int64_t pixels, uint8_t* rgb) {
  for (int64_t p = 0; p < pixels; ++p) std::fill(rgb + 3 * p, rgb + 3 * p + 3, to_byte(1.0f / (1.0f + std::exp(-logits[p]))));
}

void draw_normals(const float* logits, int64_t pixels, uint8_t* rgb) {
  for (int64_t p = 0; p < pixels; ++p) {
    const float n[3] = {logits[p], logits[pixels + p], logits[2 * pixels + p]};
    const float length = std::max(std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]), 1e-12f);
    for (int c = 0; c < 3; ++c) rgb[3 * p + c] = to_byte((n[c] / length + 1.0f) / 2.0f);
  }
}

// A blue-cyan-green-yellow-red ramp.
void draw_depth(const float* logits, int64_t pixels, uint8_t* rgb) {
  const auto [low, high] = std::minmax_element(logits, logits + pixels);
  const float range = std::max(*high - *low, 1e-12f);
  static const float stops[5][3] = {{0, 0, 1}, {0, 1, 1}, {0, 1, 0}, {1, 1, 0}, {1, 0, 0}};
  for (int64_t p = 0; p < pixels; ++p) {
    const float t = (logits[p] - *low) / range * 4.0f;
    const int i = std::min(static_cast<int>(t), 3);
    const float f = t - static_cast<float>(i);
    for (int c = 0; c < 3; ++c) rgb[3 * p + c] = to_byte(stops[i][c] * (1 - f) + stops[i + 1][c] * f);
  }
}

// Fills [x0, x1) x [y0, y1), clipped to the picture and to the columns [clip_x0, clip_x1).
void fill(Picture* picture, int64_t x0, int64_t y0, int64_t x1, int64_t y1, const uint8_t* rgb, int64_t clip_x0 = 0,
          int64_t clip_x1 = INT64_MAX) {
  x0 = std::max({x0, clip_x0, int64_t{0}}), x1 = std::min({x1, clip_x1, picture->width});
  y0 = std::max(y0, int64_t{0}), y1 = std::min(y1, picture->height);
  for (int64_t y = y0; y < y1; ++y) {
    for (int64_t x = x0; x < x1; ++x) std::memcpy(picture->at(x, y), rgb, 3);
  }
}

std::string printable(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (c < 32 || c > 126) c = '?';
  }
  return out;
}

// draw_text, its pixels kept inside the columns [clip_x0, clip_x1).
void draw_text_clipped(Picture* picture, int64_t x, int64_t y, const std::string& text, int scale, const uint8_t* rgb,
                       int64_t clip_x0, int64_t clip_x1) {
  std::string glyphs = printable(text);
  // stb_easy_font: 4 vertices of 16 bytes per quad (x, y, z floats, colour); a glyph has at most 16 quads.
  std::vector<char> vertices(glyphs.size() * 16 * 64 + 64);
  const int quads = stb_easy_font_print(0.0f, 0.0f, glyphs.data(), nullptr, vertices.data(), static_cast<int>(vertices.size()));
  for (int q = 0; q < quads; ++q) {
    float first[2], third[2];  // the quad's corners: vertex 0 top left, vertex 2 bottom right
    std::memcpy(first, vertices.data() + q * 64, sizeof first);
    std::memcpy(third, vertices.data() + q * 64 + 32, sizeof third);
    fill(picture, x + std::lround(first[0]) * scale, y + std::lround(first[1]) * scale, x + std::lround(third[0]) * scale,
         y + std::lround(third[1]) * scale, rgb, clip_x0, clip_x1);
  }
}

// The first of `texts` that fits in `width` pixels, else the last.
const std::string& fitting(const std::vector<std::string>& texts, int64_t width, int scale) {
  for (const std::string& text : texts) {
    if (text_width(text, scale) <= width) return text;
  }
  return texts.back();
}

std::string format(const char* pattern, double a, double b = 0, double c = 0) {
  char text[160];
  std::snprintf(text, sizeof text, pattern, a, b, c);
  return text;
}

const char* const kVocClasses[] = {"background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus",
                                   "car", "cat", "chair", "cow", "diningtable", "dog", "horse",
                                   "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"};
const char* const kNyudClasses[] = {"wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf",
                                    "picture", "counter", "blinds", "desk", "shelves", "curtain", "dresser", "pillow", "mirror",
                                    "floor mat", "clothes", "ceiling", "books", "refrigerator", "television", "paper", "towel",
                                    "shower curtain", "box", "whiteboard", "person", "night stand", "toilet", "sink", "lamp",
                                    "bathtub", "bag", "otherstructure", "otherfurniture", "otherprop"};
const char* const kSceneClasses[] = {"background", "disc", "square", "triangle", "ring"};  // converter/scenes/generator.py
const char* const kPascalParts[] = {"background", "head", "torso", "upper arm", "lower arm", "upper leg", "lower leg"};

}  // namespace

Picture::Picture(int64_t w, int64_t h, uint8_t grey) : width(w), height(h), rgb(static_cast<size_t>(w * h * 3), grey) {}

void Picture::paste(const std::vector<uint8_t>& square, int64_t size, int64_t x, int64_t y) {
  for (int64_t row = 0; row < size; ++row) std::copy_n(square.data() + row * size * 3, size * 3, at(x, y + row));
}

void palette_colour(int64_t label, uint8_t* rgb) {
  rgb[0] = rgb[1] = rgb[2] = 0;
  for (int shift = 7; label > 0; --shift, label >>= 3) {
    for (int c = 0; c < 3; ++c) rgb[c] = static_cast<uint8_t>(rgb[c] | (((label >> c) & 1) << shift));
  }
}

bool is_class_map(const std::string& task, int64_t outputs) {
  return outputs > 1 && !(task == "normals" && outputs == 3) && !(task == "depth" && outputs == 1);
}

std::vector<std::string> class_labels(const std::string& task, int64_t outputs) {
  const char* const* names = nullptr;
  if (task == "semseg" && outputs == 21) names = kVocClasses;
  if (task == "semseg" && outputs == 40) names = kNyudClasses;
  if (task == "semseg" && outputs == 5) names = kSceneClasses;
  if (task == "human_parts" && outputs == 7) names = kPascalParts;
  std::vector<std::string> labels;
  for (int64_t c = 0; c < outputs; ++c) labels.push_back(std::to_string(c) + (names ? std::string(" ") + names[c] : ""));
  return labels;
}

std::vector<uint8_t> task_picture(const std::string& task, const float* logits, int64_t outputs, int64_t size) {
  const int64_t pixels = size * size;
  std::vector<uint8_t> rgb(static_cast<size_t>(pixels * 3));
  if (task == "normals" && outputs == 3) {
    draw_normals(logits, pixels, rgb.data());
  } else if (task == "depth" && outputs == 1) {
    draw_depth(logits, pixels, rgb.data());
  } else if (outputs == 1) {
    draw_sigmoid(logits, pixels, rgb.data());
  } else {
    draw_argmax(logits, outputs, pixels, rgb.data());
  }
  return rgb;
}

std::vector<uint8_t> side_by_side(const std::vector<std::vector<uint8_t>>& pictures, int64_t size) {
  const size_t row = static_cast<size_t>(size * 3);
  std::vector<uint8_t> out(pictures.size() * row * static_cast<size_t>(size));
  for (size_t k = 0; k < pictures.size(); ++k) {
    for (int64_t y = 0; y < size; ++y) {
      std::copy_n(pictures[k].data() + y * row, row, out.data() + (static_cast<size_t>(y) * pictures.size() + k) * row);
    }
  }
  return out;
}

int64_t text_width(const std::string& text, int scale) {
  std::string glyphs = printable(text);
  return int64_t{stb_easy_font_width(glyphs.data())} * scale;
}

void draw_text(Picture* picture, int64_t x, int64_t y, const std::string& text, int scale, const uint8_t* rgb) {
  draw_text_clipped(picture, x, y, text, scale, rgb, 0, picture->width);
}

int text_scale(int64_t size) { return static_cast<int>(std::max<int64_t>(1, size / 224)); }

int64_t strip_height(int64_t size) { return 14 * text_scale(size); }

Picture legend_picture(const std::vector<std::string>& labels, int64_t width, int scale) {
  if (labels.empty()) return Picture(width, 0, 255);
  const int64_t u = scale;
  int64_t widest = 0;
  for (const std::string& label : labels) widest = std::max(widest, text_width(label, scale));
  const int64_t entry = 8 * u + 3 * u + widest + 6 * u;
  const int64_t per_row = std::max<int64_t>(1, (width - 2 * u) / entry);
  const int64_t count = static_cast<int64_t>(labels.size());
  const int64_t rows = (count + per_row - 1) / per_row;
  Picture legend(width, rows * 12 * u + 4 * u, 255);
  for (int64_t c = 0; c < count; ++c) {
    const int64_t x = 2 * u + (c % per_row) * entry, y = 2 * u + (c / per_row) * 12 * u;
    uint8_t colour[3];
    palette_colour(c, colour);
    fill(&legend, x, y, x + 8 * u, y + 8 * u, colour);
    draw_text(&legend, x + 11 * u, y, labels[static_cast<size_t>(c)], scale, kBlack);
  }
  return legend;
}

Picture summary_picture(const std::vector<SummaryPanel>& panels, int64_t size) {
  const int scale = text_scale(size);
  const int64_t u = scale, strip = strip_height(size);
  std::vector<Picture> legends;
  int64_t legend_height = 0;
  for (const SummaryPanel& panel : panels) {
    legends.push_back(legend_picture(panel.legend, size, scale));
    legend_height = std::max(legend_height, legends.back().height);
  }
  Picture out(static_cast<int64_t>(panels.size()) * size, strip + size + legend_height, 255);
  for (size_t k = 0; k < panels.size(); ++k) {
    const int64_t left = static_cast<int64_t>(k) * size;
    const int64_t x = left + std::max(2 * u, (size - text_width(panels[k].caption, scale)) / 2);
    draw_text_clipped(&out, x, 2 * u, panels[k].caption, scale, kBlack, left, left + size);
    out.paste(panels[k].rgb, size, left, strip);
    for (int64_t y = 0; y < legends[k].height; ++y) std::copy_n(legends[k].at(0, y), size * 3, out.at(left, strip + size + y));
  }
  return out;
}

std::vector<float> kept_fraction(const FrameStats& stats, size_t stage, int64_t tokens) {
  std::vector<float> fraction(static_cast<size_t>(tokens), 0.0f);
  int ran = 0;
  for (size_t block = 0; block < stats.tokens_kept[stage].size(); ++block) {
    if (stats.tokens_kept[stage][block] == 0) continue;
    ++ran;
    const std::vector<uint8_t>* mask = nullptr;
    if (stage < stats.token_masks.size() && block < stats.token_masks[stage].size()) mask = &stats.token_masks[stage][block];
    const bool gated = mask != nullptr && static_cast<int64_t>(mask->size()) == tokens;
    for (int64_t t = 0; t < tokens; ++t) fraction[static_cast<size_t>(t)] += !gated || (*mask)[static_cast<size_t>(t)] ? 1.0f : 0.0f;
  }
  if (ran > 0) {
    for (float& f : fraction) f /= static_cast<float>(ran);
  }
  return fraction;
}

GateSquare gate_square(int64_t size, int64_t depth, int64_t block) {
  const int64_t u = text_scale(size);
  const int64_t side = std::max<int64_t>(1, std::min(10 * u, (size - 4 * u) / std::max<int64_t>(depth, 1) - 2 * u));
  return {2 * u + block * (side + 2 * u), (strip_height(size) - side) / 2, side};
}

Picture compute_picture(const std::vector<uint8_t>& input, int64_t size, const FrameStats& stats,
                        const std::vector<int64_t>& resolutions) {
  const int scale = text_scale(size);
  const int64_t u = scale, strip = strip_height(size);
  const int64_t stages = static_cast<int64_t>(resolutions.size());
  Picture out(stages * size, size + 3 * strip, 255);
  const double executed = double(stats.macs_executed), total = double(stats.macs_static);
  const std::string title = fitting({format("compute: %.1f%% of static MACs (%.3f of %.3f GMACs)", 100.0 * executed / std::max(total, 1.0),
                                            executed * 1e-9, total * 1e-9),
                                     format("%.1f%% of static MACs", 100.0 * executed / std::max(total, 1.0))},
                                    out.width - 4 * u, scale);
  draw_text(&out, 2 * u, 2 * u, title, scale, kBlack);
  for (int64_t i = 0; i < stages; ++i) {
    const size_t stage = static_cast<size_t>(i);
    const int64_t left = i * size, resolution = resolutions[stage], tokens = resolution * resolution;
    const int64_t depth = static_cast<int64_t>(stats.tokens_kept[stage].size());
    int64_t ran = 0, kept = 0;
    for (int64_t k : stats.tokens_kept[stage]) ran += k > 0, kept += k;
    const std::string blocks = std::to_string(ran) + "/" + std::to_string(depth);
    const std::string percent = format("%.0f%%", 100.0 * double(kept) / double(std::max<int64_t>(depth * tokens, 1)));
    const std::string caption = fitting({"stage " + std::to_string(i) + ": " + blocks + " blocks, " + percent + " tokens",
                                         "stage " + std::to_string(i) + ": " + blocks + ", " + percent,
                                         std::to_string(i) + ": " + blocks + " " + percent},
                                        size - 4 * u, scale);
    draw_text_clipped(&out, left + 2 * u, strip + 2 * u, caption, scale, kBlack, left, left + size);
    const std::vector<float> fraction = kept_fraction(stats, stage, tokens);
    const bool grid = size >= 8 * resolution;
    for (int64_t y = 0; y < size; ++y) {
      const int64_t ty = y * resolution / size;
      const bool row_edge = y > 0 && ty != (y - 1) * resolution / size;
      for (int64_t x = 0; x < size; ++x) {
        const int64_t tx = x * resolution / size;
        const bool edge = grid && (row_edge || (x > 0 && tx != (x - 1) * resolution / size));
        const float gain = 0.25f + 0.75f * fraction[static_cast<size_t>(ty * resolution + tx)];
        uint8_t* pixel = out.at(left + x, 2 * strip + y);
        for (int c = 0; c < 3; ++c) {
          const long value = std::lround(float(input[static_cast<size_t>((y * size + x) * 3 + c)]) * gain);
          pixel[c] = static_cast<uint8_t>(edge ? (value + 128) / 2 : value);
        }
      }
    }
    for (int64_t block = 0; block < depth; ++block) {
      const GateSquare square = gate_square(size, depth, block);
      const int64_t x0 = left + square.x, y0 = 2 * strip + size + square.y, x1 = x0 + square.side, y1 = y0 + square.side;
      if (stats.tokens_kept[stage][static_cast<size_t>(block)] > 0) {
        fill(&out, x0, y0, x1, y1, kRan, left, left + size);
      } else {
        const int64_t line = std::min(u, square.side);
        fill(&out, x0, y0, x1, y0 + line, kSkipped, left, left + size);
        fill(&out, x0, y1 - line, x1, y1, kSkipped, left, left + size);
        fill(&out, x0, y0, x0 + line, y1, kSkipped, left, left + size);
        fill(&out, x1 - line, y0, x1, y1, kSkipped, left, left + size);
      }
    }
  }
  return out;
}

std::string png_bytes(const std::vector<uint8_t>& rgb, int64_t width, int64_t height) {
  std::string bytes;
  auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  stbi_write_png_to_func(append, &bytes, static_cast<int>(width), static_cast<int>(height), 3, rgb.data(), static_cast<int>(width * 3));
  return bytes;
}

std::string png_bytes(const Picture& picture) { return png_bytes(picture.rgb, picture.width, picture.height); }

}  // namespace adarun
