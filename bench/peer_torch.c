/*
 * PyTorch as a peer (torch.nn.functional.conv{,_transpose}{1,2,3}d, the shape's layer): a
 * /usr/bin/python3 child running bench/torch_peer.py, spoken to one line at a time through
 * pipes; tensors travel as raw float32 files in a private temporary directory. The child
 * runs with OMP_WAIT_POLICY=PASSIVE: without it PyTorch's OpenMP threads spin against
 * OpenBLAS's and its 2-thread runs are slower than 1-thread ones.
 */
#define _POSIX_C_SOURCE 200809L
#include "bench.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static struct {
    pid_t pid;
    FILE *to, *from;
    char dir[64];
    char version[64];
} child = {0};

/* One line from the child into buf (newline removed); false at end of file. */
static bool reply(char *buf, size_t size)
{
    if (!child.from || !fgets(buf, (int)size, child.from))
        return false;
    buf[strcspn(buf, "\n")] = '\0';
    return true;
}

/* Sends a command and reads its answer; false (and the peer stops) if the child died. */
static bool ask(const char *command, char *answer, size_t size)
{
    if (!child.to)
        return false;
    if (fprintf(child.to, "%s\n", command) < 0 || fflush(child.to) != 0 ||
        !reply(answer, size)) {
        torch_stop();
        return false;
    }
    return true;
}

bool torch_start(const char *script, char *why, size_t why_size)
{
    if (access("/usr/bin/python3", X_OK) != 0) {
        snprintf(why, why_size, "/usr/bin/python3 not found");
        return false;
    }
    snprintf(child.dir, sizeof child.dir, "/tmp/tconv_bench.XXXXXX");
    if (!mkdtemp(child.dir)) {
        snprintf(why, why_size, "cannot create a temporary directory");
        return false;
    }
    int down[2], up[2];
    if (pipe(down) != 0 || pipe(up) != 0) {
        snprintf(why, why_size, "pipe failed");
        return false;
    }
    /* the child's environment: ours, with OMP_WAIT_POLICY=PASSIVE */
    size_t n = 0;
    while (environ[n])
        ++n;
    char **env = calloc(n + 2, sizeof *env);
    size_t m = 0;
    for (size_t i = 0; i < n; ++i)
        if (strncmp(environ[i], "OMP_WAIT_POLICY=", 16) != 0)
            env[m++] = environ[i];
    env[m++] = "OMP_WAIT_POLICY=PASSIVE";
    env[m] = NULL;
    fflush(NULL);
    child.pid = fork();
    if (child.pid == 0) {
        dup2(down[0], 0);
        dup2(up[1], 1);
        close(down[0]), close(down[1]), close(up[0]), close(up[1]);
        char *argv[] = {"/usr/bin/python3", (char *)script, NULL};
        execve(argv[0], argv, env);
        _exit(127);
    }
    free(env);
    close(down[0]);
    close(up[1]);
    if (child.pid < 0) {
        snprintf(why, why_size, "fork failed");
        return false;
    }
    child.to = fdopen(down[1], "w");
    child.from = fdopen(up[0], "r");
    char line[512] = "";
    if (!reply(line, sizeof line) || strncmp(line, "ready torch ", 12) != 0) {
        snprintf(why, why_size, "%s", line[0] ? line : "the Python peer did not start");
        torch_stop();
        return false;
    }
    snprintf(child.version, sizeof child.version, "PyTorch %.40s", line + 12);
    return true;
}

void torch_stop(void)
{
    if (child.to) {
        fprintf(child.to, "quit\n");
        fclose(child.to);
    }
    if (child.from)
        fclose(child.from);
    if (child.pid > 0)
        waitpid(child.pid, NULL, 0);
    child.to = child.from = NULL;
    child.pid = 0;
    if (child.dir[0]) {
        const char *names[] = {"in", "weight", "bias", "gout", "out", "gin", "gw", "gb"};
        char path[128];
        for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
            snprintf(path, sizeof path, "%s/%s.bin", child.dir, names[i]);
            unlink(path);
        }
        rmdir(child.dir);
        child.dir[0] = '\0';
    }
}

const char *torch_version(void)
{
    return child.version;
}

static bool write_file(const char *name, const float *v, int64_t n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s.bin", child.dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    const bool ok = fwrite(v, sizeof *v, (size_t)n, f) == (size_t)n;
    return fclose(f) == 0 && ok;
}

static bool read_file(const char *name, float *v, int64_t n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s.bin", child.dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    const bool ok = fread(v, sizeof *v, (size_t)n, f) == (size_t)n;
    fclose(f);
    return ok;
}

/* Appends " v0 v1 .." (dims values) to the command. */
static void axes(char *cmd, size_t size, const int64_t *v, int dims)
{
    for (int a = 0; a < dims; ++a) {
        const size_t used = strlen(cmd);
        snprintf(cmd + used, size - used, " %lld", (long long)v[a]);
    }
}

bool torch_check(const shape *s, const tensors *t, tensors *got)
{
    const tconv_geometry *g = &s->g;
    const layer_io io = layer_io_of(g);
    if (!child.to || !write_file("in", t->in, t->n_in) ||
        !write_file("weight", t->weight, t->n_weight) || !write_file("bias", t->bias, t->n_bias) ||
        !write_file("gout", t->grad_out, t->n_out))
        return false;
    char cmd[512], answer[512];
    snprintf(cmd, sizeof cmd, "shape %s %s %d %lld %lld %lld %lld", child.dir,
             g->layer == TCONV_LAYER_CONV ? "conv" : "convt", g->dims, (long long)g->batch,
             (long long)io.in_ch, (long long)io.out_ch, (long long)g->groups);
    axes(cmd, sizeof cmd, io.in_size, g->dims);
    axes(cmd, sizeof cmd, g->kernel, g->dims);
    axes(cmd, sizeof cmd, g->stride, g->dims);
    axes(cmd, sizeof cmd, g->padding, g->dims);
    axes(cmd, sizeof cmd, g->output_padding, g->dims);
    axes(cmd, sizeof cmd, g->dilation, g->dims);
    axes(cmd, sizeof cmd, io.out_size, g->dims);
    if (!ask(cmd, answer, sizeof answer) || strcmp(answer, "ok") != 0 ||
        !ask("check", answer, sizeof answer) || strcmp(answer, "ok") != 0) {
        fprintf(stderr, "tconv_bench: PyTorch peer on %s: %s\n", s->name, answer);
        return false;
    }
    return read_file("out", got->out, t->n_out) && read_file("gin", got->grad_in, t->n_in) &&
           read_file("gw", got->grad_weight, t->n_weight) &&
           read_file("gb", got->grad_bias, t->n_bias);
}

bool torch_time(pass p, int threads, const budget *b, double *ms, int *runs, int64_t *rss)
{
    char cmd[256], answer[512];
    snprintf(cmd, sizeof cmd, "time %s %d %g %d %d %g", p == PASS_FWD ? "fwd" : "fwdbwd",
             threads, b->seconds, b->min_runs, b->max_runs, b->warmup_s);
    long long peak = -1;
    if (!ask(cmd, answer, sizeof answer) ||
        sscanf(answer, "ms %lf runs %d rss %lld", ms, runs, &peak) != 3) {
        fprintf(stderr, "tconv_bench: PyTorch peer: %s\n", answer);
        return false;
    }
    *rss = peak;
    return true;
}
