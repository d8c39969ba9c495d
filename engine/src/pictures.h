#pragma once
// Task outputs drawn as pictures (SPEC 4), the summary picture with captions and class legends, the compute
// picture (where a frame's gates spent the model's work), and the text they are labelled with.
#include <cstdint>
#include <string>
#include <vector>

#include "engine/src/frame_stats.h"

namespace adarun {

// An RGB8 picture, rows top to bottom.
struct Picture {
  Picture() = default;
  Picture(int64_t width, int64_t height, uint8_t grey);  // filled with one grey
  uint8_t* at(int64_t x, int64_t y) { return rgb.data() + 3 * (y * width + x); }
  const uint8_t* at(int64_t x, int64_t y) const { return rgb.data() + 3 * (y * width + x); }
  // Copies a size x size RGB8 picture in with its top left corner at (x, y).
  void paste(const std::vector<uint8_t>& square, int64_t size, int64_t x, int64_t y);

  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;
};

// logits: [outputs, size, size] raw model output -> RGB8 [size, size, 3].
//   semseg, human_parts (and any other multi-class task): argmax, PASCAL palette
//   sal, edge (and any other 1-output task): sigmoid as grey
//   normals: unit-normalised, (n + 1) / 2 as RGB
//   depth: min-max normalised through a colour map
std::vector<uint8_t> task_picture(const std::string& task, const float* logits, int64_t outputs, int64_t size);
// Whether task_picture draws the task as classes (argmax through the palette), which get a legend.
bool is_class_map(const std::string& task, int64_t outputs);
// The PASCAL VOC colour of a class: its bits spread over the high bits of R, G, B (class 1 = (128, 0, 0)).
void palette_colour(int64_t label, uint8_t* rgb);
// A class map's legend labels, one per class: "3 triangle" where the project knows the classes (semseg with 21
// classes: PASCAL VOC; 40: NYUD; 5: the scene generator's, the default model; human_parts with 7: PASCAL parts),
// else the index alone ("3").
std::vector<std::string> class_labels(const std::string& task, int64_t outputs);

// RGB8 pictures of size x size side by side, left to right -> RGB8 [size, n * size, 3].
std::vector<uint8_t> side_by_side(const std::vector<std::vector<uint8_t>>& pictures, int64_t size);

// Text in stb_easy_font's bitmap glyphs (Debian's libstb-dev), each glyph unit `scale` x `scale` pixels: a line
// is text_width wide and 12 units high (capitals fill units 0 to 7 of it, descenders reach 10). Printable ASCII;
// any other byte is drawn as '?'. Pixels outside the picture are left out.
int64_t text_width(const std::string& text, int scale);
void draw_text(Picture* picture, int64_t x, int64_t y, const std::string& text, int scale, const uint8_t* rgb);

// The text scale for pictures of size x size: max(1, size / 224).
int text_scale(int64_t size);
// A strip holding one line of text: 14 units (text at 2 units from its top).
int64_t strip_height(int64_t size);

// A class map's legend, `width` wide: per class a swatch of its colour (8 x 8 units) and its label, entries of
// equal width (the widest label) in rows of as many as fit, 12 units a row, inside a 2-unit margin.
Picture legend_picture(const std::vector<std::string>& labels, int64_t width, int scale);

// One picture of the summary: size x size RGB8, the caption above it, a legend below it (none when empty).
struct SummaryPanel {
  std::vector<uint8_t> rgb;
  std::string caption;
  std::vector<std::string> legend;
};
// The panels side by side (n size wide): a caption strip (strip_height, each caption centred above its picture),
// the pictures, then the legends (as high as the highest; none when no panel has one). White, black text.
Picture summary_picture(const std::vector<SummaryPanel>& panels, int64_t size);

// Per token of a stage, the fraction of the stage's blocks that ran (kept at least one token) which kept the token
// (through the MLP); every token of a run block counts as kept when there is no token gating. 0 when no block ran.
std::vector<float> kept_fraction(const FrameStats& stats, size_t stage, int64_t tokens);

// Where a frame spent the model's work, from its input picture (size x size RGB8) and its stats: a title strip
// ("compute: 73.7% of static MACs (4.268 of 5.790 GMACs)"), then one panel per stage, size wide, side by side:
//   - a caption strip: "stage i: r/d blocks, p% tokens" (blocks that ran of the stage's; tokens through the MLP of
//     every block over depth x tokens);
//   - the input, each pixel scaled by 0.25 + 0.75 f, f the kept_fraction of its token (tokens on a
//     resolution x resolution grid over the picture), and where a token is at least 8 pixels wide, its grid:
//     pixels whose token differs from their left or upper neighbour's become (v + 128) / 2;
//   - a gate strip: a square per block, filled green when the block ran, outlined red when it was skipped (gate
//     off or no token kept); sides min(10 units, (size - 4 units) / depth - 2 units), 2 units apart, from 2 units.
// resolutions: each stage's token grid side. Size: resolutions.size() * size x (size + 3 strip_height(size)).
Picture compute_picture(const std::vector<uint8_t>& input, int64_t size, const FrameStats& stats,
                        const std::vector<int64_t>& resolutions);
// The square of block `block` in a stage panel's gate strip, relative to the strip's top left corner.
struct GateSquare {
  int64_t x = 0, y = 0, side = 0;
};
GateSquare gate_square(int64_t size, int64_t depth, int64_t block);

// PNG file bytes of an RGB8 picture.
std::string png_bytes(const std::vector<uint8_t>& rgb, int64_t width, int64_t height);
std::string png_bytes(const Picture& picture);

}  // namespace adarun
