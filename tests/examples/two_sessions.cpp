// The C++ wrapper in an app: one model shared by two sessions on two threads, each computing half
// of the tasks on the same image for a few frames.  usage: two_sessions MODEL IMAGE
#include <adarun/adarun.hpp>
#include <stb_image.h>

#include <cstddef>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Image {
  std::unique_ptr<unsigned char, void (*)(void*)> pixels{nullptr, stbi_image_free};
  int width = 0, height = 0;
};

Image load_image(const char* path) {
  Image image;
  int channels = 0;
  image.pixels.reset(stbi_load(path, &image.width, &image.height, &channels, 3));
  if (!image.pixels) throw std::runtime_error(std::string("cannot read ") + path);
  return image;
}

std::mutex print_mutex;

// Each thread owns its session; the model is only read.
void run_tasks(const adarun::Model& model, const Image& image, const std::vector<std::string>& tasks, int frames) {
  adarun::Session session(model);
  session.set_tasks(tasks);
  for (int frame = 0; frame < frames; ++frame) session.run_image(image.pixels.get(), image.width, image.height, image.width * 3, ADARUN_PIXEL_RGB8);
  const std::lock_guard<std::mutex> lock(print_mutex);
  std::string names;
  for (const std::string& task : tasks) names += (names.empty() ? "" : ",") + task;
  std::printf("session %s: %d frames, last %.1f ms\n", names.c_str(), frames, session.stats().milliseconds);
  for (const std::string& task : tasks) {
    const adarun::Output output = session.output(model.task_index(task));
    const double sum = std::accumulate(output.data, output.data + output.size(), 0.0);
    std::printf("task %s [%lld, %lld, %lld] mean %.9g\n", task.c_str(), (long long)output.channels, (long long)output.height,
                (long long)output.width, sum / double(output.size()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: two_sessions MODEL IMAGE\n");
    return 2;
  }
  try {
    const adarun::Model model = adarun::Model::load_file(argv[1]);
    const Image image = load_image(argv[2]);
    // Each session computes half of the tasks (both the only one of a one-task model).
    const std::vector<std::string> names = model.task_names();
    const auto half = names.begin() + std::ptrdiff_t((names.size() + 1) / 2);
    const std::vector<std::string> first_tasks(names.begin(), half);
    const std::vector<std::string> second_tasks = half == names.end() ? names : std::vector<std::string>(half, names.end());
    std::exception_ptr failures[2];
    auto worker = [&](int index, std::vector<std::string> tasks) {
      try {
        run_tasks(model, image, tasks, 3);
      } catch (...) {
        failures[index] = std::current_exception();  // rethrown on the main thread
      }
    };
    std::thread first(worker, 0, first_tasks);
    std::thread second(worker, 1, second_tasks);
    first.join();
    second.join();
    for (const std::exception_ptr& failure : failures) {
      if (failure) std::rethrow_exception(failure);
    }
  } catch (const adarun::Error& error) {
    std::fprintf(stderr, "two_sessions: %s: %s\n", adarun_status_name(error.status()), error.what());
    return 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "two_sessions: %s\n", error.what());
    return 1;
  }
  return 0;
}
