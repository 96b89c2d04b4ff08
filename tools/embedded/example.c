/* Derain one raw RGB24 frame with a compiled model, through the C API: the whole life cycle
 * (load, workspace, prepare, run, free). Firmware does the same with its own buffers.
 *   example MODEL.dcdm IN.rgb24 WIDTH HEIGHT OUT.rgb24 */
#include "dcd.h"
#include <stdio.h>
#include <stdlib.h>

static void *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *bytes = malloc(*size);
    if (bytes && fread(bytes, 1, *size, f) != *size) { free(bytes); bytes = NULL; }
    fclose(f);
    return bytes;
}

int main(int argc, char **argv) {
    if (argc != 6) { fprintf(stderr, "usage: %s MODEL IN.rgb24 WIDTH HEIGHT OUT.rgb24\n", argv[0]); return 2; }
    uint32_t width = (uint32_t)atoi(argv[3]), height = (uint32_t)atoi(argv[4]);
    size_t model_size, frame_size;
    void *model_bytes = read_all(argv[1], &model_size);
    uint8_t *frame = read_all(argv[2], &frame_size);
    if (!model_bytes || !frame || frame_size != (size_t)width * height * 3) { fprintf(stderr, "cannot read the inputs\n"); return 1; }

    char message[256];
    dcd_model *model;
    if (dcd_model_load(model_bytes, model_size, &model, message, sizeof message) != DCD_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], message);
        return 1;
    }
    free(model_bytes);  /* the model keeps what it needs */

    /* All per-frame memory comes from the host, once per frame size. */
    size_t workspace_bytes = dcd_model_workspace_bytes(model, width, height);
    if (workspace_bytes == 0) { fprintf(stderr, "%s\n", dcd_model_error(model)); return 1; }
    void *workspace = aligned_alloc(64, (workspace_bytes + 63) / 64 * 64);
    uint8_t *derained = malloc(frame_size);
    dcd_status status = dcd_model_prepare(model, width, height, workspace, workspace_bytes);
    if (status == DCD_OK) status = dcd_model_run(model, DCD_RGB24, frame, derained, width, height, 0);
    if (status != DCD_OK) { fprintf(stderr, "%s: %s\n", dcd_status_name(status), dcd_model_error(model)); return 1; }

    FILE *out = fopen(argv[5], "wb");
    if (!out || fwrite(derained, 1, frame_size, out) != frame_size || fclose(out) != 0) { fprintf(stderr, "cannot write %s\n", argv[5]); return 1; }
    printf("%ux%u %s frame derained with %zu bytes of workspace\n", width, height, dcd_model_is_int8(model) ? "int8" : "float", workspace_bytes);
    dcd_model_free(model);
    free(workspace);
    free(derained);
    free(frame);
    return 0;
}
