/* adarun C API: adaptive multi-task vision models in any app.
 *
 * Stable ABI: opaque handles, fixed-width types, and structs that only ever grow at their end
 * (callers pass their size). A newer library runs programs built against an older header of the
 * same major version (of the same minor version while the major is 0); the shared library's
 * SONAME says which: libadarun.so.MAJOR, or libadarun.so.0.MINOR before 1.0.
 *
 * Errors: every call that can fail returns an adarun_status. Each such call also sets the calling
 * thread's last-error message (adarun_last_error): a human-readable line on failure, "" on success.
 * No call exits, aborts or lets a C++ exception escape; NULL handles and pointers give
 * ADARUN_INVALID_ARGUMENT.
 *
 * Threads: a model is read-only once loaded; any number of threads may query it and create
 * sessions on it at once. A session owns its buffers and thread pool and must be used by one thread
 * at a time; different sessions (on one model or several) may run at the same time.
 */
#ifndef ADARUN_ADARUN_H
#define ADARUN_ADARUN_H

#include <stddef.h>
#include <stdint.h>

#define ADARUN_VERSION_MAJOR 0
#define ADARUN_VERSION_MINOR 1
#define ADARUN_VERSION_PATCH 0
/* major << 16 | minor << 8 | patch: compare with adarun_version() to see which library runs. */
#define ADARUN_VERSION ((ADARUN_VERSION_MAJOR << 16) | (ADARUN_VERSION_MINOR << 8) | ADARUN_VERSION_PATCH)

#if defined(_WIN32)
#define ADARUN_API
#else
#define ADARUN_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Values never change; new ones may be added. */
typedef enum adarun_status {
  ADARUN_OK = 0,
  ADARUN_INVALID_ARGUMENT = 1, /* NULL pointer, bad option, unknown task, bad image or tensor */
  ADARUN_IO_ERROR = 2,         /* the model file cannot be opened or read */
  ADARUN_BAD_MODEL = 3,        /* the bytes are not a valid adarun weight file */
  ADARUN_OUT_OF_MEMORY = 4,
  ADARUN_INTERNAL = 5 /* a bug: please report it with the message */
} adarun_status;

/* Interleaved 8-bit pixels. Greyscale and other layouts are not accepted: convert to RGB first. */
typedef enum adarun_pixel_format {
  ADARUN_PIXEL_RGB8 = 1,
  ADARUN_PIXEL_RGBA8 = 2 /* alpha is ignored */
} adarun_pixel_format;

typedef struct adarun_model adarun_model;
typedef struct adarun_session adarun_session;

/* What the last run did. Fields are only ever appended. */
typedef struct adarun_stats {
  int64_t macs_executed;  /* multiply-accumulates the frame ran */
  int64_t macs_static;    /* the same model without gating, for the same tasks */
  int32_t blocks_run;     /* transformer blocks whose gate was on */
  int32_t blocks_total;
  int64_t tokens_kept;    /* tokens through a block's MLP, summed over the blocks run */
  int64_t tokens_total;   /* tokens of every block, summed over all blocks */
  double milliseconds;    /* wall time of the run, preprocessing excluded */
  int64_t arena_bytes;    /* the session's planned buffers, for its current tasks */
} adarun_stats;

/* One op of a session's plan (the model compiled for its tasks) and what it did while the session
 * profiled. Fields are only ever appended. */
typedef struct adarun_op_info {
  const char* name;     /* "stage2.block3.fc1"; valid until the session's next set_tasks or free */
  const char* op;       /* "linear", "window_attention", "conv", ... */
  const char* kind;     /* the profile's bucket: "linear", "attention", "conv", "policy", ... */
  int64_t macs_static;  /* with every row, as the static model runs it (0 for a policy's gate op) */
  int64_t runs;         /* frames it ran in since profiling started: gated-off ops did not run */
  int64_t rows;         /* rows it ran over, summed over its runs (kept tokens for token-gated ops) */
  int64_t macs;         /* multiply-accumulates it ran, summed over its runs */
  double milliseconds;  /* wall time, summed over its runs */
} adarun_op_info;

/* The library's version, packed like ADARUN_VERSION, and as text ("0.1.0"). */
ADARUN_API uint32_t adarun_version(void);
ADARUN_API const char* adarun_version_string(void);

/* The calling thread's message for its last adarun call that returns a status ("" after a success).
 * Valid until that thread's next such call. Never NULL. */
ADARUN_API const char* adarun_last_error(void);
/* "ADARUN_OK", "ADARUN_INVALID_ARGUMENT", ...; "unknown status" for other values. Never NULL. */
ADARUN_API const char* adarun_status_name(adarun_status status);

/* Loads and validates a weight file (memory-mapped, read-only). *model is NULL on failure. */
ADARUN_API adarun_status adarun_model_load_file(const char* path, adarun_model** model);
/* The same from a buffer holding a weight file's bytes. The library copies them: the caller may free
 * the buffer as soon as the call returns. */
ADARUN_API adarun_status adarun_model_load_memory(const void* data, size_t size, adarun_model** model);
/* Releases the caller's reference. Sessions keep the model alive: it may be freed before them. NULL is a no-op. */
ADARUN_API void adarun_model_free(adarun_model* model);

/* The square input side S: images are resized to S x S, tensors must be [3, S, S]. */
ADARUN_API adarun_status adarun_model_image_size(const adarun_model* model, int32_t* size);
ADARUN_API adarun_status adarun_model_task_count(const adarun_model* model, int32_t* count);
/* The name of task `index` (0 <= index < count), valid as long as the model. */
ADARUN_API adarun_status adarun_model_task_name(const adarun_model* model, int32_t index, const char** name);
/* Output channels of task `index`: its output is [channels, S, S]. */
ADARUN_API adarun_status adarun_model_task_channels(const adarun_model* model, int32_t index, int32_t* channels);
/* The index of a task by name; ADARUN_INVALID_ARGUMENT when the model has no such task. */
ADARUN_API adarun_status adarun_model_task_index(const adarun_model* model, const char* name, int32_t* index);
/* The backbone's stages (4 for Swin); adarun_session_stage_gates reports gates per stage. */
ADARUN_API adarun_status adarun_model_stage_count(const adarun_model* model, int32_t* count);

/* A session on a model, with every buffer a frame needs allocated here. It runs all tasks on one
 * thread with the trained gate decisions until told otherwise. *session is NULL on failure. */
ADARUN_API adarun_status adarun_session_create(adarun_model* model, adarun_session** session);
/* NULL is a no-op. */
ADARUN_API void adarun_session_free(adarun_session* session);

/* Threads for the next runs, 1 to 1024 (the calling thread counts as one). */
ADARUN_API adarun_status adarun_session_set_threads(adarun_session* session, int32_t threads);
/* The tasks the next runs compute, by name; count 0 (names may then be NULL) means all tasks.
 * An unknown name is an error and leaves the session's tasks as they were. */
ADARUN_API adarun_status adarun_session_set_tasks(adarun_session* session, const char* const* names, int32_t count);
/* A gate is on iff its policy logit > threshold: 0 is the trained decision, lower keeps more work.
 * Must be finite. */
ADARUN_API adarun_status adarun_session_set_gate_threshold(adarun_session* session, float threshold);
/* A compute budget f in (0, 1] replaces the threshold: every block keeps its ceil(f L) best tokens
 * and every stage its ceil(f depth) best blocks. 0 turns the budget off (the default). */
ADARUN_API adarun_status adarun_session_set_budget(adarun_session* session, float fraction);

/* Runs one frame on an image of any size (1 to 16384 pixels a side) and row stride (at least
 * width * bytes per pixel), resized bicubically to S x S and normalised as in training: the same
 * preprocessing as `adarun infer` on a .png. Allocates temporary buffers for the resize. */
ADARUN_API adarun_status adarun_session_run_image(adarun_session* session, const uint8_t* pixels, int32_t width, int32_t height,
                                                  int32_t stride_bytes, adarun_pixel_format format);
/* Runs one frame on a float tensor [3, S, S], already normalised; count must be 3 * S * S.
 * NaN or infinite values are refused with ADARUN_INVALID_ARGUMENT before any work. */
ADARUN_API adarun_status adarun_session_run_tensor(adarun_session* session, const float* tensor, int64_t count);

/* Task `index`'s raw logits from the last run: *data points to shape[0] x shape[1] x shape[2]
 * floats (channels, S, S), owned by the session and valid until its next run, set_tasks or free.
 * ADARUN_INVALID_ARGUMENT when the last run failed or did not compute that task, and before any run. */
ADARUN_API adarun_status adarun_session_output(const adarun_session* session, int32_t index, const float** data, int64_t shape[3]);
/* The last run's stats (ADARUN_INVALID_ARGUMENT when it failed, and before any run). stats_size is sizeof(adarun_stats) as the caller knows it: the library
 * writes that many bytes at most, so older callers keep working when the struct grows. */
ADARUN_API adarun_status adarun_session_stats(const adarun_session* session, adarun_stats* stats, size_t stats_size);
/* Profiling on: every following run adds each op's time, rows and MACs (adarun_session_op_info); turning it
 * on (again) clears the totals, as does set_tasks. Off by default; off, a run pays nothing for it. */
ADARUN_API adarun_status adarun_session_set_profiling(adarun_session* session, int32_t on);
/* How many ops the session's plan has for its current tasks. */
ADARUN_API adarun_status adarun_session_op_count(const adarun_session* session, int32_t* count);
/* Op `index` of the plan (0 <= index < count) and its profile totals. info_size is sizeof(adarun_op_info)
 * as the caller knows it, as for adarun_session_stats. */
ADARUN_API adarun_status adarun_session_op_info(const adarun_session* session, int32_t index, adarun_op_info* info, size_t info_size);
/* Stage `stage`'s gates from the last run: block_gates[b] is 1 when block b ran, tokens_kept[b] the
 * tokens through its MLP (0 when it was skipped), for b < *blocks (the stage's depth). The arrays
 * are owned by the session and valid until its next run. (Per-token masks are not exposed.) */
ADARUN_API adarun_status adarun_session_stage_gates(const adarun_session* session, int32_t stage, const uint8_t** block_gates,
                                                    const int64_t** tokens_kept, int32_t* blocks);

#ifdef __cplusplus
}
#endif

#endif /* ADARUN_ADARUN_H */
