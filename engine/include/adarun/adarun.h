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

/* The largest image, camera frame or adarun_session_output_on_frame picture side, in pixels. */
#define ADARUN_MAX_IMAGE_SIDE 16384

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

/* 8-bit pixel layouts. adarun_session_run_image takes RGB8 and RGBA8; adarun_session_run_camera takes them all.
 * Greyscale and other layouts are not accepted: convert to RGB first. */
typedef enum adarun_pixel_format {
  ADARUN_PIXEL_RGB8 = 1,
  ADARUN_PIXEL_RGBA8 = 2, /* alpha is ignored */
  ADARUN_PIXEL_BGRA8 = 3, /* B, G, R, A bytes: iOS kCVPixelFormatType_32BGRA; alpha is ignored */
  ADARUN_PIXEL_NV12 = 4,  /* YUV 4:2:0: plane 0 Y, plane 1 interleaved U, V (iOS 420f / 420v) */
  ADARUN_PIXEL_NV21 = 5,  /* YUV 4:2:0: plane 0 Y, plane 1 interleaved V, U (Android's NV21) */
  ADARUN_PIXEL_I420 = 6   /* YUV 4:2:0: plane 0 Y, plane 1 U, plane 2 V */
} adarun_pixel_format;

/* How 8-bit YUV becomes RGB: the matrix (BT.601 or BT.709) and the range (full: Y, U, V in [0, 255]; video:
 * Y in [16, 235], U and V in [16, 240]). Android's camera YUV_420_888 is BT601_FULL (JFIF); on iOS read the
 * buffer's kCVImageBufferYCbCrMatrixKey and its format (420f full, 420v video). RGB formats ignore it. */
typedef enum adarun_color {
  ADARUN_COLOR_BT601_FULL = 1,
  ADARUN_COLOR_BT601_VIDEO = 2,
  ADARUN_COLOR_BT709_FULL = 3,
  ADARUN_COLOR_BT709_VIDEO = 4
} adarun_color;

/* How a frame of any shape becomes the model's square S x S input (adarun_session_set_framing). */
typedef enum adarun_framing {
  ADARUN_FRAMING_STRETCH = 0,  /* the whole frame resized to S x S, its aspect lost (the default) */
  ADARUN_FRAMING_CROP = 1,     /* the centred square of side min(width, height), resized to S x S */
  ADARUN_FRAMING_LETTERBOX = 2 /* the whole frame at its own aspect, padded to S x S with the mean colour */
} adarun_framing;

typedef struct adarun_model adarun_model;
typedef struct adarun_session adarun_session;

/* A camera frame (adarun_session_run_camera). Fields are only ever appended; zero them all before filling
 * (`adarun_image image = {0};`), so fields a later version adds keep their default.
 * Plane p's row y starts at planes[p] + y * strides[p]; each stride is at least its plane's row: width * 3
 * (RGB8) or width * 4 (RGBA8, BGRA8) bytes; Y: width; NV12/NV21 chroma: 2 * ceil(width / 2); I420 U and V:
 * ceil(width / 2). Odd widths and heights are allowed: the 4:2:0 chroma planes then have ceil(width / 2) x
 * ceil(height / 2) samples, as Android gives them, and pixel (x, y) takes chroma sample (x / 2, y / 2).
 * Planes the format does not read are ignored. */
typedef struct adarun_image {
  int32_t format;       /* adarun_pixel_format */
  int32_t width;        /* pixels as stored, before the rotation */
  int32_t height;
  int32_t color;        /* adarun_color; YUV formats must set it, RGB formats may leave 0 */
  int32_t rotation;     /* 0, 90, 180 or 270: degrees to turn the stored frame clockwise to make it upright
                           (Android's ImageInfo.getRotationDegrees()); 90 and 270 give a height x width frame */
  int32_t strides[3];   /* bytes from one row of a plane to the next */
  const uint8_t* planes[3];
} adarun_image;

/* Where the last run's model input came from (adarun_session_frame_geometry), in whole pixels. Fields are only
 * ever appended. */
typedef struct adarun_frame_geometry {
  int32_t framing;       /* adarun_framing of that run */
  int32_t frame_width;   /* the upright frame (rotation applied); S x S after adarun_session_run_tensor */
  int32_t frame_height;
  int32_t view_x;        /* the part of the frame the model saw: columns [view_x, view_x + view_width), */
  int32_t view_y;        /* rows [view_y, view_y + view_height) */
  int32_t view_width;
  int32_t view_height;
  int32_t model_x;       /* where that view lies in the model's S x S input and outputs; the rest is */
  int32_t model_y;       /* letterbox padding */
  int32_t model_width;
  int32_t model_height;
} adarun_frame_geometry;

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
  int64_t tokens_reused;  /* streaming: block input tokens whose stored outputs were reused, summed over the blocks run */
} adarun_stats;

/* Streaming (README "Streaming"): a token changed when |x - r| > threshold |r| (L2 over its channels, r the
 * block input it had when last computed; in stage 0's first block, with a camera noise set, see
 * adarun_session_set_stream_noise); a window of a block is recomputed when one of its tokens changed,
 * at most ceil(max_recompute * windows) windows a block a frame (the most changed first), and every window
 * every refresh_every frames. */
typedef struct adarun_streaming {
  float threshold;        /* >= 0; 0 (with no camera noise set) recomputes every window whose input moved at all: the per-frame answer */
  int32_t refresh_every;  /* >= 1 */
  float max_recompute;    /* in (0, 1] */
} adarun_streaming;

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
/* Streaming on (on != 0) or off for the next runs: consecutive frames reuse each block's stored outputs for the
 * windows whose input barely changed. settings NULL: threshold 0.05, refresh every 16 frames, no cap. Any call
 * restarts the stream: the next frame computes everything. Turning it on or off re-plans the session. */
ADARUN_API adarun_status adarun_session_set_streaming(adarun_session* session, int32_t on, const adarun_streaming* settings);
/* The camera's noise for streaming, grey levels of 255 (sigma), in [0, 255]: with noise > 0 stage 0's first block and
 * the patch embedding test the frame's patches instead of tokens, a patch changed when the RMS change of its pixels
 * exceeds 3 noise (sensor noise moves the embedding's tokens far more than its pixels); 0, the default, tests
 * tokens. Kept across adarun_session_set_streaming calls (a function of its own, so that adarun_streaming keeps its
 * size); restarts the stream. */
ADARUN_API adarun_status adarun_session_set_stream_noise(adarun_session* session, float noise);

/* Runs one frame on an image of any size (1 to 16384 pixels a side) and row stride (at least
 * width * bytes per pixel), resized bicubically to S x S and normalised as in training: the same
 * preprocessing as `adarun infer` on a .png (framed as adarun_session_set_framing says; STRETCH by default).
 * RGB8 and RGBA8 only: adarun_session_run_camera takes the other formats. Allocates buffers for the resize
 * on its first frame and when frames grow. */
ADARUN_API adarun_status adarun_session_run_image(adarun_session* session, const uint8_t* pixels, int32_t width, int32_t height,
                                                  int32_t stride_bytes, adarun_pixel_format format);
/* How the next runs of adarun_session_run_image and adarun_session_run_camera make a frame square (see
 * adarun_framing; STRETCH until set). Unknown values are refused. Outputs stay S x S; adarun_session_output_on_frame
 * lays them back onto the frame. */
ADARUN_API adarun_status adarun_session_set_framing(adarun_session* session, adarun_framing framing);
/* Runs one frame from a camera: converted to RGB (YUV by the standard matrix of image->color, computed in float,
 * clamped to [0, 255] and rounded to the nearest integer: the RGB8 frame the app would convert to), rotated, framed
 * (adarun_session_set_framing), resized bicubically to S x S and normalised as adarun_session_run_image does.
 * image_size is sizeof(adarun_image) as the caller knows it. An unknown format, color, rotation, a size outside
 * 1 to 16384 pixels a side (40 million in all), a NULL plane the format reads or a stride shorter than its row is
 * refused with ADARUN_INVALID_ARGUMENT before any pixel is read or anything written: the last run's outputs stay as
 * they were. Allocates buffers on its first frame and when frames grow. */
ADARUN_API adarun_status adarun_session_run_camera(adarun_session* session, const adarun_image* image, size_t image_size);
/* Runs one frame on a float tensor [3, S, S], already normalised; count must be 3 * S * S.
 * NaN or infinite values are refused with ADARUN_INVALID_ARGUMENT before any work. */
ADARUN_API adarun_status adarun_session_run_tensor(adarun_session* session, const float* tensor, int64_t count);

/* Task `index`'s raw logits from the last run: *data points to shape[0] x shape[1] x shape[2]
 * floats (channels, S, S), owned by the session and valid until its next run, set_tasks or free.
 * ADARUN_INVALID_ARGUMENT when the last run failed or did not compute that task, and before any run. */
ADARUN_API adarun_status adarun_session_output(const adarun_session* session, int32_t index, const float** data, int64_t shape[3]);
/* Task `index`'s logits from the last run laid onto a width x height picture of that run's upright frame (its own
 * size, adarun_frame_geometry's frame_width x frame_height, or any other size covering the same field of view, as a
 * display's): out[(c * height + y) * width + x] for c < the task's channels. The framing is undone: each pixel
 * centre is taken back to the model's S x S outputs and sampled bilinearly (align_corners=False, as the engine's
 * resizes: under STRETCH at the frame's own size this is F.interpolate(logits, (height, width), 'bilinear')); samples
 * stay inside the view (letterbox padding is never read), and the sides CROP cut off take the nearest edge value.
 * width and height are 1 to 16384; out_count must be at least channels * height * width, and exactly that many
 * floats are written. The same errors as adarun_session_output; on any error nothing is written. */
ADARUN_API adarun_status adarun_session_output_on_frame(const adarun_session* session, int32_t index, int32_t width, int32_t height,
                                                        float* out, size_t out_count);
/* Which part of the last run's frame the model saw and where it lies in the model's input (see
 * adarun_frame_geometry); geometry_size is sizeof(adarun_frame_geometry) as the caller knows it. Errors before
 * any run and after a failed one. */
ADARUN_API adarun_status adarun_session_frame_geometry(const adarun_session* session, adarun_frame_geometry* geometry,
                                                       size_t geometry_size);
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
