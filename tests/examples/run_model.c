/* The C API in a C99 app: load a model, run every task on an image, print each output's shape and
 * mean and the frame's stats.  usage: run_model MODEL IMAGE */
#include <adarun/adarun.h>
#include <stb_image.h>

#include <stdio.h>

static int fail(adarun_status status) {
  fprintf(stderr, "run_model: %s: %s\n", adarun_status_name(status), adarun_last_error());
  return 1;
}

static double mean(const float* data, int64_t count) {
  double sum = 0.0;
  for (int64_t i = 0; i < count; ++i) sum += data[i];
  return sum / (double)count;
}

static int print_outputs(const adarun_model* model, const adarun_session* session) {
  int32_t tasks = 0;
  adarun_status status = adarun_model_task_count(model, &tasks);
  for (int32_t t = 0; status == ADARUN_OK && t < tasks; ++t) {
    const char* name = NULL;
    const float* data = NULL;
    int64_t shape[3];
    status = adarun_model_task_name(model, t, &name);
    if (status == ADARUN_OK) status = adarun_session_output(session, t, &data, shape);
    if (status == ADARUN_OK) {
      printf("task %s [%lld, %lld, %lld] mean %.9g\n", name, (long long)shape[0], (long long)shape[1], (long long)shape[2],
             mean(data, shape[0] * shape[1] * shape[2]));
    }
  }
  return status == ADARUN_OK ? 0 : fail(status);
}

static int run(const adarun_model* model, adarun_session* session, const char* image_path) {
  int width = 0, height = 0, channels = 0;
  unsigned char* pixels = stbi_load(image_path, &width, &height, &channels, 3);
  if (!pixels) {
    fprintf(stderr, "run_model: cannot read %s: %s\n", image_path, stbi_failure_reason());
    return 1;
  }
  adarun_status status = adarun_session_run_image(session, pixels, width, height, width * 3, ADARUN_PIXEL_RGB8);
  stbi_image_free(pixels);
  if (status != ADARUN_OK) return fail(status);
  adarun_stats stats;
  if ((status = adarun_session_stats(session, &stats, sizeof stats)) != ADARUN_OK) return fail(status);
  printf("%dx%d image: %.1f ms, %.3f GMACs of %.3f, %d of %d blocks\n", width, height, stats.milliseconds,
         (double)stats.macs_executed * 1e-9, (double)stats.macs_static * 1e-9, stats.blocks_run, stats.blocks_total);
  return print_outputs(model, session);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: run_model MODEL IMAGE\n");
    return 2;
  }
  printf("adarun %s (built against %d.%d.%d)\n", adarun_version_string(), ADARUN_VERSION_MAJOR, ADARUN_VERSION_MINOR,
         ADARUN_VERSION_PATCH);
  adarun_model* model = NULL;
  adarun_session* session = NULL;
  adarun_status status = adarun_model_load_file(argv[1], &model);
  if (status == ADARUN_OK) status = adarun_session_create(model, &session);
  int result = status == ADARUN_OK ? run(model, session, argv[2]) : fail(status);
  adarun_session_free(session);
  adarun_model_free(model);
  return result;
}
