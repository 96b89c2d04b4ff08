/* The runtime's golden tests in C, through include/dcd.h only, as firmware uses it: loads the
 * golden models (Tests/Fixtures/golden, made by tools/embedded/make_golden.sh on x86), derains
 * the RGB24 and NV12 frames in a host-owned workspace on 1 and 2 threads (a pthread-based
 * parallel_for hook), and compares with the x86 outputs: int8 bit for bit; float within 1 level
 * per sample (the x86 reference build sums without fused multiply-adds, this one may use them:
 * values agree to ~1e-6 relative, so only a sample within that of a rounding boundary moves, by
 * one level). The same with dcd_model_set_color_anchor modes 1 and 2 against dcd-run
 * --color-anchor and --anchor-fit matrix (the fitted maps agree as closely, so the same
 * tolerance holds). Also checks the error statuses.
 * Exit status 0 only when everything passes.
 *   usage: golden_test GOLDEN_DIR */
#include "dcd.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static unsigned char *read_file(const char *dir, const char *name, size_t *size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) { printf("cannot open %s\n", path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *bytes = malloc((size_t)n);
    if (fread(bytes, 1, (size_t)n, f) != (size_t)n) { printf("cannot read %s\n", path); exit(2); }
    fclose(f);
    *size = (size_t)n;
    return bytes;
}

/* parallel_for on two POSIX threads: the caller runs even indices, a helper odd ones. */
struct share { dcd_task task; void *context; size_t count; };
static void *helper(void *raw) {
    struct share *s = raw;
    for (size_t i = 1; i < s->count; i += 2) s->task(s->context, i);
    return NULL;
}
static void two_threads(void *host, size_t count, dcd_task task, void *context) {
    (void)host;
    struct share s = { task, context, count };
    pthread_t thread;
    int started = pthread_create(&thread, NULL, helper, &s) == 0;
    for (size_t i = 0; i < count; i += started ? 2 : 1) task(context, i);
    if (started) pthread_join(thread, NULL);
}

/* anchor: dcd_model_set_color_anchor's mode (0 none, 1 per channel, 2 colour matrix); the golden
 * file names call them "", "anchored." and "matrix.". */
static const char *const anchor_prefix[] = { "", "anchored.", "matrix." };
static const char *const anchor_label[] = { "", " anchored", " matrix" };

static void run_case(const char *dir, const char *precision, const char *format_name, dcd_pixel_format format, int threads, int anchor) {
    char name[256];
    size_t model_size, input_size, expected_size;
    snprintf(name, sizeof name, "trained8.%s.dcdm", precision);
    unsigned char *model_bytes = read_file(dir, name, &model_size);
    snprintf(name, sizeof name, "in.%s", format_name);
    unsigned char *input = read_file(dir, name, &input_size);
    snprintf(name, sizeof name, "out.%s%s.%s", anchor_prefix[anchor], precision, format_name);
    unsigned char *expected = read_file(dir, name, &expected_size);

    dcd_model *model = NULL;
    char message[256];
    dcd_status status = dcd_model_load(model_bytes, model_size, &model, message, sizeof message);
    CHECK(status == DCD_OK && model, "load %s: %s", precision, message);
    free(model_bytes);  /* the model keeps what it needs */
    if (!model) return;
    CHECK(dcd_model_is_int8(model) == (strcmp(precision, "int8") == 0), "precision of %s", precision);
    if (threads > 1) CHECK(dcd_model_set_threads(model, 2, two_threads, NULL) == DCD_OK, "threads");
    CHECK(dcd_model_color_anchor(model) == 0, "golden models are compiled without --color-anchor");
    if (anchor) CHECK(dcd_model_set_color_anchor(model, anchor) == DCD_OK && dcd_model_color_anchor(model) == anchor, "color anchor %d", anchor);

    unsigned char *output = calloc(1, expected_size);
    CHECK(dcd_model_run(model, format, input, output, 24, 20, 0) == DCD_NOT_PREPARED, "run before prepare: %s", dcd_model_error(model));
    size_t workspace_bytes = dcd_model_workspace_bytes(model, 24, 20);
    CHECK(workspace_bytes > 0, "workspace bytes: %s", dcd_model_error(model));
    void *workspace = aligned_alloc(64, (workspace_bytes + 63) / 64 * 64);
    CHECK(dcd_model_prepare(model, 24, 20, workspace, workspace_bytes - 1) == DCD_WORKSPACE_TOO_SMALL, "small workspace");
    CHECK(dcd_model_prepare(model, 24, 20, workspace, workspace_bytes) == DCD_OK, "prepare: %s", dcd_model_error(model));
    for (int round = 0; round < 2; round++) {  /* the second frame reuses the prepared workspace */
        status = dcd_model_run(model, format, input, output, 24, 20, 0);
        CHECK(status == DCD_OK, "run %s %s: %s", precision, format_name, dcd_model_error(model));
        size_t off = 0, worst = 0;
        for (size_t i = 0; i < expected_size; i++) {
            size_t d = output[i] > expected[i] ? output[i] - expected[i] : expected[i] - output[i];
            if (d) off++;
            if (d > worst) worst = d;
        }
        size_t allowed = strcmp(precision, "int8") == 0 ? 0 : 1;
        CHECK(worst <= allowed, "%s %s%s, %d thread(s): %zu of %zu bytes differ, by up to %zu (allowed %zu)",
              precision, format_name, anchor_label[anchor], threads, off, expected_size, worst, allowed);
        if (round == 0)
            printf("%-5s %-5s%s %d thread(s): %zu of %zu bytes differ from x86 (largest %zu), workspace %zu bytes\n",
                   precision, format_name, anchor_label[anchor], threads, off, expected_size, worst, workspace_bytes);
    }
    CHECK(dcd_model_run(model, DCD_NV12_BT601_LIMITED, input, output, 23, 20, 0) == DCD_UNSUPPORTED_INPUT, "odd NV12 width");
    CHECK(dcd_model_workspace_bytes(model, 3, 3) == 0 && strstr(dcd_model_error(model), "too small"), "3x3 frame: %s", dcd_model_error(model));
    free(workspace);
    free(output);
    free(input);
    free(expected);
    dcd_model_free(model);
}

int main(int argc, char **argv) {
    if (argc != 2) { printf("usage: %s GOLDEN_DIR\n", argv[0]); return 2; }
    const char *precisions[] = { "int8", "float" };
    for (int p = 0; p < 2; p++) {
        for (int threads = 1; threads <= 2; threads++) {
            for (int anchor = 0; anchor <= 2; anchor++) {
                run_case(argv[1], precisions[p], "rgb24", DCD_RGB24, threads, anchor);
                run_case(argv[1], precisions[p], "nv12", DCD_NV12_BT601_LIMITED, threads, anchor);
            }
        }
    }
    dcd_model *model = (dcd_model *)1;
    char message[256];
    unsigned char junk[64] = { 'n', 'o', 't' };
    CHECK(dcd_model_load(junk, sizeof junk, &model, message, sizeof message) == DCD_INVALID_MODEL && model == NULL && message[0],
          "junk model: %s", message);
    CHECK(strcmp(dcd_status_name(DCD_NOT_PREPARED), "DCD_NOT_PREPARED") == 0, "status name");
    printf("%s: %d failure(s)\n", failures ? "FAILED" : "passed", failures);
    return failures ? 1 : 0;
}
