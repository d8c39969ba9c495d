// A frame allocates nothing: every buffer is planned and allocated when the session is created.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "engine/src/npy.h"
#include "engine/src/session.h"
#include "tests/parity/golden_case.h"

namespace {
std::atomic<int64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
// The nothrow forms too (std::get_temporary_buffer uses them): every new here pairs with a delete here.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size ? size : 1);
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

TEST_CASE("session: no heap allocation per frame after the first, gated or not, streamed or not, on 1 and 3 threads") {
  for (const char* name : {"per_task_small", "mtlora_matrix_small"}) {
    adarun::testing::GoldenCase golden;
    REQUIRE(adarun::testing::load_golden_case(name, &golden).is_ok());
    std::unique_ptr<adarun::Model> model;
    REQUIRE(adarun::Model::load_file(golden.directory + "/model.adarun", &model).is_ok());
    adarun::NpyArray input;
    REQUIRE(adarun::read_npy(golden.directory + "/input.npy", &input).is_ok());
    for (int threads : {1, 3}) {
      if (threads > 1 && adarun::testing::fewer_frames()) continue;  // the same pool code natively
      std::unique_ptr<adarun::Session> session;
      REQUIRE(adarun::Session::create(*model, &session).is_ok());
      REQUIRE(session->set_threads(threads).is_ok());
      REQUIRE(session->run(input.values.data(), int64_t(input.values.size())).is_ok());
      // No test macros between the two counts: doctest allocates for its own bookkeeping.
      bool frames_ok = true;
      const int64_t before = g_allocations.load();
      for (int frame = 0; frame < 3; ++frame) {
        session->set_gate_threshold(frame == 1 ? -1e9f : 0.0f);
        frames_ok &= session->run(input.values.data(), int64_t(input.values.size())).is_ok();
      }
      const int64_t after_frames = g_allocations.load();
      // Streamed frames too, once the stream is set up: a refresh, reuse, then changed windows under a cap.
      adarun::StreamSettings settings;
      settings.threshold = 0.0f;
      settings.max_recompute = 0.5f;
      frames_ok &= session->set_streaming(true, settings).is_ok();
      std::vector<float> frame = input.values;
      // The allocations of three frames, each with a value moved, after a first that sets the stream up.
      auto allocations_of_changed_frames = [&](size_t step) {
        frames_ok &= session->run(frame.data(), int64_t(frame.size())).is_ok();
        const int64_t start = g_allocations.load();
        for (size_t k = 0; k < 3; ++k) {
          frame[k * step] += 1.0f;
          frames_ok &= session->run(frame.data(), int64_t(frame.size())).is_ok();
        }
        return g_allocations.load() - start;
      };
      const int64_t streamed = allocations_of_changed_frames(97);
      // And with a camera's noise given (the frame's patches tested, scheduler.h).
      frames_ok &= session->set_stream_noise(2.0f).is_ok();
      const int64_t with_noise = allocations_of_changed_frames(89);
      CAPTURE(name);
      CAPTURE(threads);
      CHECK(frames_ok);
      CHECK(after_frames == before);
      CHECK(streamed == 0);
      CHECK(with_noise == 0);
    }
  }
}
