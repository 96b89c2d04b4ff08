/* dcd: DCD-GAN deraining runtime, C API.
 *
 * The host owns every buffer: the model file's bytes (read during load only), the workspace a
 * frame size needs (prepare), the input and output frames. dcd allocates at load (the unpacked
 * tensors and the packed weights) and never after: prepare and run use the host's workspace.
 * One model is used by one thread at a time; several models may run concurrently.
 * Built as Embedded Swift (no Swift runtime, no Foundation): see tools/embedded/build.sh.
 */
#ifndef DCD_H
#define DCD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dcd_model dcd_model;

typedef enum dcd_status {
    DCD_OK = 0,
    DCD_INVALID_MODEL = 1,        /* not a dcd model file, corrupt, or another format version */
    DCD_UNSUPPORTED_INPUT = 2,    /* frame too small for the network, or odd NV12 sides */
    DCD_INVALID_ARGUMENT = 3,     /* a NULL pointer, a zero size, a bad format */
    DCD_WORKSPACE_TOO_SMALL = 4,  /* prepare: fewer bytes than dcd_model_workspace_bytes */
    DCD_NOT_PREPARED = 5          /* run: no workspace prepared for this frame size */
} dcd_status;

typedef enum dcd_pixel_format {
    DCD_RGB24 = 0,                /* R G B bytes per pixel */
    DCD_NV12_BT601_LIMITED = 1,   /* Y plane, then interleaved Cb Cr at half resolution */
    DCD_NV12_BT709_LIMITED = 2,
    DCD_NV12_BT601_FULL = 3,
    DCD_NV12_BT709_FULL = 4
} dcd_pixel_format;

/* Threads: dcd calls parallel_for(host_context, count, task, task_context) and expects
 * task(task_context, i) to have run for every i in [0, count) when it returns, on any threads,
 * each index exactly once. Results do not depend on the number of threads or the order. */
typedef void (*dcd_task)(void *task_context, size_t index);
typedef void (*dcd_parallel_for)(void *host_context, size_t count, dcd_task task, void *task_context);

/* Reads a compiled model (.dcdm) from memory. On failure *model is NULL and, when message is
 * not NULL, a one-line reason is written there (NUL-terminated, truncated to capacity). */
dcd_status dcd_model_load(const void *bytes, size_t byte_count, dcd_model **model, char *message, size_t message_capacity);
void dcd_model_free(dcd_model *model);

/* 1 for an int8 model, 0 for float32. */
int dcd_model_is_int8(const dcd_model *model);

/* How dcd_model_run gives outputs the input's brightness, contrast and colour cast (the
 * generator cannot see them), fitted to the rainy input robustly to its streaks: 0 not at all,
 * 1 a gain and offset per channel, 2 a colour matrix and offset. Starts as the model file says
 * (dcd-compile --color-anchor [--anchor-fit matrix]); set_color_anchor takes 0, 1 or 2 (else
 * DCD_INVALID_ARGUMENT). */
int dcd_model_color_anchor(const dcd_model *model);
dcd_status dcd_model_set_color_anchor(dcd_model *model, int mode);

/* The last failure of a call on this model, one line (empty after success). */
const char *dcd_model_error(const dcd_model *model);
const char *dcd_status_name(dcd_status status);

/* Bytes of workspace frames of this size need; 0 if the size is unsupported (see the error). */
size_t dcd_model_workspace_bytes(dcd_model *model, uint32_t width, uint32_t height);

/* Runs later calls on the host's threads (workers: how many the host runs tasks on). */
dcd_status dcd_model_set_threads(dcd_model *model, uint32_t workers, dcd_parallel_for parallel_for, void *host_context);

/* Plans frames of this size in the host's workspace (64-byte aligned, at least
 * dcd_model_workspace_bytes long, kept by the host until the next prepare or free). */
dcd_status dcd_model_prepare(dcd_model *model, uint32_t width, uint32_t height, void *workspace, size_t workspace_bytes);

/* Derains one frame of the prepared size from input into output (same format, size and row
 * stride; row_bytes 0 means tightly packed: width * 3 for RGB24, width for NV12 planes). */
dcd_status dcd_model_run(dcd_model *model, dcd_pixel_format format, const uint8_t *input, uint8_t *output,
                         uint32_t width, uint32_t height, size_t row_bytes);

#ifdef __cplusplus
}
#endif
#endif
