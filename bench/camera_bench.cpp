// A camera frame to the model's input (engine/src/framing.h camera_to_input: conversion, rotation, framing, bicubic
// resize, normalisation) for 1920 x 1080 NV21 and BGRA8 frames at S = 224: rotation 0 and 90, stretch, crop and
// letterbox, on 1 and 2 threads. The frames are smooth with mild noise, as camera frames are: the conversion's
// clamps to [0, 255] then seldom fire (on random bytes they fire at random and the mispredicted branches cost 2-3x).
#include <benchmark/benchmark.h>
#include <pthreadpool.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/src/framing.h"

namespace {

constexpr int64_t kWidth = 1920, kHeight = 1080, kSize = 224;

struct Frame {
  std::vector<uint8_t> bytes;
  adarun::CameraImage image;
};

// A smooth pattern of `levels` around `centre`, plus noise of +-8.
uint8_t smooth_value(int64_t x, int64_t y, double centre, double levels, std::mt19937& generator) {
  const double value = centre + levels * std::sin(static_cast<double>(x) / 37.0) * std::cos(static_cast<double>(y) / 23.0) + static_cast<int>(generator() % 17) - 8;
  return static_cast<uint8_t>(std::clamp(value, 0.0, 255.0));
}

Frame camera_like_frame(adarun::PixelFormat format, int rotation) {
  const bool nv21 = format == adarun::PixelFormat::kNv21;
  Frame frame;
  std::mt19937 generator(7);
  if (nv21) {  // Y plane, then interleaved V U at half resolution
    for (int64_t y = 0; y < kHeight; ++y) {
      for (int64_t x = 0; x < kWidth; ++x) frame.bytes.push_back(smooth_value(x, y, 128, 90, generator));
    }
    for (int64_t y = 0; y < kHeight / 2; ++y) {
      for (int64_t x = 0; x < kWidth; ++x) frame.bytes.push_back(smooth_value(x / 2 + 500 * (x % 2), y, 128, 40, generator));
    }
  } else {
    for (int64_t y = 0; y < kHeight; ++y) {
      for (int64_t x = 0; x < kWidth * 4; ++x) frame.bytes.push_back(smooth_value(x / 4 + 300 * (x % 4), y, 128, 110, generator));
    }
  }
  adarun::CameraImage& image = frame.image;
  image.format = format, image.width = kWidth, image.height = kHeight, image.rotation = rotation;
  image.planes[0] = frame.bytes.data();
  image.strides[0] = nv21 ? kWidth : kWidth * 4;
  if (nv21) {
    image.planes[1] = frame.bytes.data() + kWidth * kHeight, image.strides[1] = kWidth;
    image.color = adarun::ColorSpace::kBt601Full;
  }
  return frame;
}

void camera_to_input(benchmark::State& state, adarun::PixelFormat format, int rotation, adarun::Framing framing, int threads) {
  const Frame frame = camera_like_frame(format, rotation);
  std::unique_ptr<pthreadpool, void (*)(pthreadpool_t)> pool(threads > 1 ? pthreadpool_create(threads) : nullptr, pthreadpool_destroy);
  adarun::FrameBuffers buffers;
  std::vector<float> input;
  adarun::FrameGeometry geometry;
  for (auto _ : state) {
    const adarun::Status status = adarun::camera_to_input(frame.image, framing, kSize, &buffers, &input, &geometry, pool.get(), threads);
    if (!status.is_ok()) state.SkipWithError(status.message().c_str());
    benchmark::DoNotOptimize(input.data());
  }
}

void register_all() {
  const std::pair<const char*, adarun::PixelFormat> formats[] = {{"nv21", adarun::PixelFormat::kNv21}, {"bgra", adarun::PixelFormat::kBgra8}};
  const std::pair<const char*, adarun::Framing> framings[] = {
      {"stretch", adarun::Framing::kStretch}, {"crop", adarun::Framing::kCrop}, {"letterbox", adarun::Framing::kLetterbox}};
  for (const auto& [format_name, format] : formats) {
    for (int rotation : {0, 90}) {
      for (const auto& [framing_name, framing] : framings) {
        for (int threads : {1, 2}) {
          const std::string name = std::string("camera_to_input/") + format_name + "/rot" + std::to_string(rotation) + "/" + framing_name +
                                   "/threads:" + std::to_string(threads);
          benchmark::RegisterBenchmark(name.c_str(), camera_to_input, format, rotation, framing, threads)->Unit(benchmark::kMillisecond)->UseRealTime();
        }
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
