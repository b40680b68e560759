/*
 * `tconv explain` as a user runs it: the seed's examples exit 0, and the matrices it
 * prints, read back entry by entry, equal the library's structure of C (and of Cᵀ); other
 * geometries likewise; large ones get a summary; bad flags exit 2 with a message.
 * The printed names are decoded here from their definition (w00 = weight[0][0][0][0],
 * a.. and b.. for the channel pairs), not with the command's own code.
 */
#define _POSIX_C_SOURCE 200809L /* popen */

#include "common.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

typedef struct run_result {
    char *out; /* stdout */
    char *err; /* stderr */
    int status;
} run_result;

static char *slurp(FILE *f)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    for (size_t n; (n = fread(buf + len, 1, cap - len - 1, f)) > 0;) {
        len += n;
        if (cap - len < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    return buf;
}

/* Runs `tconv explain <args>`; the shell only joins the arguments given here. */
static run_result explain(const char *args)
{
    char err_path[] = "/tmp/tconv-explain-err-XXXXXX";
    const int fd = mkstemp(err_path);
    cr_assert(fd >= 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' explain %s 2>'%s'", TCONV_CLI, args, err_path);
    FILE *p = popen(cmd, "r");
    cr_assert(p != NULL, "cannot run %s", cmd);
    run_result r;
    r.out = slurp(p);
    const int st = pclose(p);
    cr_assert(WIFEXITED(st), "tconv explain %s did not exit normally (crash?)", args);
    r.status = WEXITSTATUS(st);
    FILE *e = fdopen(fd, "r");
    r.err = slurp(e);
    fclose(e);
    remove(err_path);
    return r;
}

static void run_free(run_result *r)
{
    free(r->out), free(r->err);
}

/* The weight index a printed name denotes: prefix w (one channel pair) or a, b, ... (pair
 * 0, 1, ...), then one digit per kernel axis. -1 for '.'. */
static int64_t decode_weight(const char *tok, const tconv_geometry *g)
{
    if (!strcmp(tok, "."))
        return -1;
    const int64_t pairs = g->y_channels * (g->x_channels / g->groups);
    int64_t pair = 0, tap = 0, K = 1;
    cr_assert(pairs == 1 ? tok[0] == 'w' : tok[0] >= 'a' && tok[0] < 'a' + pairs,
              "unexpected weight name '%s'", tok);
    if (pairs > 1)
        pair = tok[0] - 'a';
    cr_assert_eq((int)strlen(tok), 1 + g->dims, "weight name '%s'", tok);
    for (int a = 0; a < g->dims; ++a) {
        const int digit = tok[1 + a] - '0';
        cr_assert(digit >= 0 && digit < g->kernel[a], "weight name '%s'", tok);
        tap = tap * g->kernel[a] + digit;
        K *= g->kernel[a];
    }
    return pair * K + tap;
}

/* Whitespace-separated tokens of one line. */
static int tokens(char *line, char **tok, int most)
{
    int n = 0;
    for (char *t = strtok(line, " \t"); t && n < most; t = strtok(NULL, " \t"))
        tok[n++] = t;
    return n;
}

/*
 * Finds the `nth` matrix whose title line starts with `title` (e.g. "2. The
 * transformation matrix C (") and reads it: a line of `cols` column labels, then `rows`
 * lines of a label and `cols` entries. Returns the weight indices, row-major.
 */
static int64_t *read_matrix(const char *text, const char *title, int nth, int64_t rows,
                            int64_t cols, const tconv_geometry *g)
{
    const char *at = text;
    for (int i = 0; i <= nth; ++i) {
        at = strstr(i ? at + 1 : at, title);
        cr_assert(at != NULL, "no matrix titled '%s' (number %d) in the output", title, nth);
    }
    char want[64];
    snprintf(want, sizeof want, "%s%lld x %lld)", title, (long long)rows, (long long)cols);
    cr_assert(strncmp(at, want, strlen(want)) == 0, "expected '%s'", want);
    char *copy = strdup(at), *save = NULL;
    char **tok = malloc((size_t)(cols + 8) * sizeof *tok);
    int64_t *m = malloc((size_t)(rows * cols) * sizeof *m);
    char *line = strtok_r(copy, "\n", &save); /* the title */
    /* skip explanation lines until the column labels */
    for (;;) {
        line = strtok_r(NULL, "\n", &save);
        cr_assert(line != NULL, "the column labels of '%s' are missing", want);
        char *l = strdup(line);
        const int n = tokens(l, tok, (int)cols + 4);
        const bool labels = n == cols && (tok[0][0] == 'x' || tok[0][0] == 'y');
        free(l);
        if (labels)
            break;
    }
    for (int64_t r = 0; r < rows; ++r) {
        line = strtok_r(NULL, "\n", &save);
        cr_assert(line != NULL, "%s: row %lld is missing", want, (long long)r);
        const int n = tokens(line, tok, (int)cols + 4);
        cr_assert_eq(n, cols + 1, "%s: row %lld has %d entries, expected %lld", want,
                     (long long)r, n - 1, (long long)cols);
        for (int64_t c = 0; c < cols; ++c)
            m[r * cols + c] = decode_weight(tok[1 + c], g);
    }
    free(tok), free(copy);
    return m;
}

/* The printed C and Cᵀ of model `nth` against tconv_matrix_structure. */
static void check_printed(const char *text, int nth, const tconv_geometry *g)
{
    tconv_matrix_info info;
    cr_assert_eq(tconv_matrix_info_get(g, TCONV_F64, &info, NULL), TCONV_OK);
    const int64_t R = info.rows, K = info.cols;
    int64_t *C = malloc((size_t)(R * K) * sizeof *C), *Ct = malloc((size_t)(R * K) * sizeof *Ct);
    cr_assert_eq(tconv_matrix_structure(g, TCONV_APPLY, C, NULL, NULL), TCONV_OK);
    cr_assert_eq(tconv_matrix_structure(g, TCONV_APPLY_T, Ct, NULL, NULL), TCONV_OK);
    int64_t *printed = read_matrix(text, "2. The transformation matrix C (", nth, R, K, g);
    int64_t *printed_t = read_matrix(text, "Its transpose C\u1d40 (", nth, K, R, g);
    for (int64_t i = 0; i < R * K; ++i) {
        cr_assert_eq(printed[i], C[i], "C[%lld][%lld]: printed %lld, library %lld [%s]",
                     (long long)(i / K), (long long)(i % K), (long long)printed[i],
                     (long long)C[i], describe(g));
        cr_assert_eq(printed_t[i], Ct[i], "Cᵀ[%lld][%lld]: printed %lld, library %lld [%s]",
                     (long long)(i / R), (long long)(i % R), (long long)printed_t[i],
                     (long long)Ct[i], describe(g));
    }
    free(C), free(Ct), free(printed), free(printed_t);
}

Test(explain, seed_examples)
{
    run_result r = explain("");
    cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
    const int64_t five[2] = {5, 5}, three[2] = {3, 3}, two[2] = {2, 2}, one[2] = {1, 1};
    tconv_geometry fig2, fig4;
    cr_assert_eq(tconv_geometry_init_conv(&fig2, 2, 1, 1, 1, 1, five, three, NULL, NULL, NULL,
                                          NULL),
                 TCONV_OK);
    cr_assert_eq(tconv_geometry_init_transposed(&fig4, 2, 1, 2, 1, 1, three, three, two, one,
                                                NULL, NULL, NULL),
                 TCONV_OK);
    check_printed(r.out, 0, &fig2);
    check_printed(r.out, 1, &fig4);
    /* the seed's counts, and the views' own check against the matrix */
    cr_assert(strstr(r.out, "9 x 25 = 225"), "the matrix way's 225 multiplications");
    cr_assert(strstr(r.out, "9 x 9 x 1 = 81"), "the convolution way's 81");
    cr_assert(strstr(r.out, "= 25 / 9 = 2.78"), "the N^2/K^2 ratio");
    cr_assert(strstr(r.out, "x = 5, 6 all give y = 3"), "the sizes the floor merges");
    cr_assert(!strstr(r.out, "MISMATCH") && !strstr(r.out, "DISAGREE"));
    cr_assert(strstr(r.out, "All agree within rounding"));
    run_free(&r);
}

/* A command line and the geometry it describes, given here in the library's terms. */
typedef struct geometry_case {
    const char *args;
    bool conv;
    int dims;
    int64_t cin, cout, groups, in[3], k[3], s[3], p[3], op[3], d[3];
} geometry_case;

static tconv_geometry geometry_of(const geometry_case *c)
{
    tconv_geometry g;
    const tconv_status s =
        c->conv ? tconv_geometry_init_conv(&g, c->dims, 1, c->cin, c->cout, c->groups, c->in,
                                           c->k, c->s, c->p, c->d, NULL)
                : tconv_geometry_init_transposed(&g, c->dims, 1, c->cin, c->cout, c->groups,
                                                 c->in, c->k, c->s, c->p, c->op, c->d, NULL);
    cr_assert_eq(s, TCONV_OK, "%s", c->args);
    return g;
}

/* Other geometries the command accepts, printed in full and read back. */
Test(explain, other_geometries)
{
    static const geometry_case cases[] = {
        {"--input-size 9 --kernel-size 3 --stride 2 --padding 1 --dilation 2", true, 1, 1, 1, 1,
         {9}, {3}, {2}, {1}, {0}, {2}},
        {"--transposed --in-channels 2 --out-channels 2 --groups 2 --input-size 3x2 "
         "--kernel-size 2x3 --stride 2x1 --padding 1x0 --output-padding 1x0",
         false, 2, 2, 2, 2, {3, 2}, {2, 3}, {2, 1}, {1, 0}, {1, 0}, {1, 1}},
        {"--in_channels=2 --input_size=3x3x3 --kernel_size=2", true, 3, 2, 1, 1, {3, 3, 3},
         {2, 2, 2}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}, {1, 1, 1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        run_result r = explain(cases[c].args);
        cr_assert_eq(r.status, 0, "%s: exit %d, stderr: %s", cases[c].args, r.status, r.err);
        const tconv_geometry g = geometry_of(&cases[c]);
        check_printed(r.out, 0, &g);
        cr_assert(strstr(r.out, "All agree within rounding"), "%s", cases[c].args);
        run_free(&r);
    }
}

/* A million-column matrix is summed up, not printed; the check that cannot run says so. */
Test(explain, large_geometry_gets_a_summary)
{
    run_result r = explain("--input-size 1000x1000 --kernel-size 3 --in-channels 64 "
                           "--out-channels 64");
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_assert(strstr(r.out, "Too large to print entry by entry"));
    cr_assert(strstr(r.out, "36716691456"), "the non-zero count of the formula");
    cr_assert(strstr(r.out, "skipped"));
    cr_assert(strlen(r.out) < 20000, "the summary is %zu bytes", strlen(r.out));
    run_free(&r);
}

/* Every bad command line: exit 2, a message naming the problem, nothing on stdout. */
Test(explain, bad_flags)
{
    static const struct {
        const char *args, *says;
    } cases[] = {
        {"--bogus", "unknown option '--bogus'"},
        {"positional", "not an option"},
        {"--stride", "--stride needs a value"},
        {"--input-size 5x --kernel-size 3", "--input-size = '5x'"},
        {"--input-size 1x2x3x4 --kernel-size 1", "1 to 3 axes"},
        {"--input-size 5 --kernel-size 3x3", "--kernel-size has 2 values"},
        {"--kernel-size 3", "needs --input-size and --kernel-size"},
        {"--input-size 5 --kernel-size 9", "smaller than the dilated kernel extent"},
        {"--input-size 5 --kernel-size 0", "kernel[0] = 0"},
        {"--input-size 4 --kernel-size 2 --in-channels 3 --groups 2", "not divisible by groups"},
        {"--input-size 4 --kernel-size 2 --output-padding 1", "belong to --transposed"},
        {"--transposed --input-size 3 --kernel-size 3 --stride 2 --output-size 9",
         "not reachable"},
        {"--transposed --input-size 3 --kernel-size 3 --output-padding 1", "output_padding[0]"},
        {"--example 3", "--example = '3'"},
        {"--example 1 --stride 2", "exclude each other"},
        {"--batch -1", "--batch = '-1'"},
        {"--time=yes", "takes no value"},
        {"--html", "--html needs a value"},
        {"--input-size 99999999999999999999 --kernel-size 1", "--input-size"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        run_result r = explain(cases[c].args);
        cr_assert_eq(r.status, 2, "'%s': exit %d", cases[c].args, r.status);
        cr_assert(strstr(r.err, cases[c].says), "'%s': stderr '%s' should say '%s'",
                  cases[c].args, r.err, cases[c].says);
        cr_assert_eq(strlen(r.out), 0, "'%s' printed to stdout", cases[c].args);
        run_free(&r);
    }
    run_result r = explain("--help");
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "--kernel-size"));
    run_free(&r);
}

/* An unwritable --html path fails with status 1 and says which file. */
Test(explain, unwritable_output)
{
    run_result r = explain("--example 1 --html /nonexistent-dir/page.html");
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "could not write /nonexistent-dir/page.html"), "%s", r.err);
    run_free(&r);
}

/* ---- the GEMM route ---------------------------------------------------------------------- */

/* The x element a printed name denotes ("x12", "x1:12"; digits per axis), or -1 for "-". */
static int64_t decode_x(const char *tok, const tconv_geometry *g)
{
    if (!strcmp(tok, "-"))
        return -1;
    cr_assert(tok[0] == 'x', "unexpected x name '%s'", tok);
    const char *p = tok + 1;
    int64_t channel = 0, pos = 0, count = 1;
    if (g->x_channels > 1) {
        char *end;
        channel = strtoll(p, &end, 10);
        cr_assert(*end == ':', "x name '%s' lacks its channel", tok);
        p = end + 1;
    }
    /* a digit per axis when every extent is at most 10, else "(a,b,...)" */
    const bool listed = *p == '(';
    p += listed;
    for (int a = 0; a < g->dims; ++a) {
        char *end;
        const long long v = listed ? strtoll(p, &end, 10) : p[0] - '0';
        end = listed ? end : (char *)p + 1;
        cr_assert(v >= 0 && v < g->x_size[a] && end > p, "x name '%s'", tok);
        cr_assert(!listed || *end == (a + 1 < g->dims ? ',' : ')'), "x name '%s'", tok);
        pos = pos * g->x_size[a] + v;
        count *= g->x_size[a];
        p = end + listed;
    }
    cr_assert(*p == '\0', "x name '%s'", tok);
    return channel * count + pos;
}

/* The table that follows the line starting with `title` (its `nth` occurrence): a line of
 * column labels, then `rows` lines of a label and `cols` entries, kept as tokens. */
static char **read_table(const char *text, const char *title, int64_t rows, int64_t cols)
{
    const char *at = strstr(text, title);
    cr_assert(at != NULL, "no table '%s' in the output", title);
    char *copy = strdup(at), *save = NULL;
    char **cells = calloc((size_t)(rows * cols), sizeof *cells);
    char **tok = malloc((size_t)(cols + 8) * sizeof *tok);
    char *line = strtok_r(copy, "\n", &save);
    int n = 0;
    bool labels = false;
    while (!labels) { /* the title may take two lines; the labels name y positions */
        line = strtok_r(NULL, "\n", &save);
        cr_assert(line != NULL, "'%s': no column labels", title);
        char *l = strdup(line);
        n = tokens(l, tok, (int)cols + 4);
        labels = n == cols;
        for (int i = 0; i < n; ++i)
            labels &= tok[i][0] == 'y';
        free(l);
    }
    for (int64_t r = 0; r < rows; ++r) {
        line = strtok_r(NULL, "\n", &save);
        cr_assert(line != NULL, "'%s': row %lld is missing", title, (long long)r);
        n = tokens(line, tok, (int)cols + 4);
        cr_assert_eq(n, cols + 1, "'%s': row %lld has %d entries", title, (long long)r, n - 1);
        for (int64_t c = 0; c < cols; ++c)
            cells[r * cols + c] = strdup(tok[1 + c]);
    }
    free(tok), free(copy);
    return cells;
}

static void free_table(char **cells, int64_t n)
{
    for (int64_t i = 0; i < n; ++i)
        free(cells[i]);
    free(cells);
}

/*
 * The printed column buffer of every group, and where each entry goes, against values
 * computed here from their definitions: cols = W_gᵀ·y (transposed) or im2col(x) (conv)
 * with the data the text states, and the x element o·s - p + tap·d per axis; then against
 * the library's matrix: that element is where C's rows for position o hold the weight of
 * that channel and tap.
 */
static void check_route(const char *text, const tconv_geometry *g)
{
    cr_assert(strstr(text, "element j of") && strstr(text, "is 1 + (j mod 7),") &&
                  strstr(text, "is 1 + (w mod 4)."),
              "the route's data are not the ones this test computes with");
    const bool transposed = g->layer == TCONV_LAYER_CONVT;
    const int d = g->dims;
    int64_t K = 1, ny = 1, nx = 1;
    for (int a = 0; a < d; ++a)
        K *= g->kernel[a], ny *= g->y_size[a], nx *= g->x_size[a];
    const int64_t cxg = g->x_channels / g->groups, cyg = g->y_channels / g->groups;
    const int64_t rows = cxg * K;
    tconv_matrix_info info;
    cr_assert_eq(tconv_matrix_info_get(g, TCONV_F64, &info, NULL), TCONV_OK);
    int64_t *C = malloc((size_t)(info.rows * info.cols) * sizeof *C);
    cr_assert_eq(tconv_matrix_structure(g, TCONV_APPLY, C, NULL, NULL), TCONV_OK);
    for (int64_t gi = 0; gi < g->groups; ++gi) {
        char title[128];
        snprintf(title, sizeof title,
                 transposed ? "  cols = W_g\u1d40\u00b7y, group %lld (%lld x %lld)"
                            : "  cols = im2col(x), group %lld (%lld x %lld)",
                 (long long)gi, (long long)rows, (long long)ny);
        char **values = read_table(text, title, rows, ny);
        snprintf(title, sizeof title,
                 transposed ? "  col2im, group %lld:" : "  im2col, group %lld:",
                 (long long)gi);
        char **lands = read_table(text, title, rows, ny);
        for (int64_t e = 0; e < rows; ++e)
            for (int64_t o = 0; o < ny; ++o) {
                const int64_t cx = gi * cxg + e / K;
                int64_t tap = e % K, pos = o, i = 0, stride_k = 1, stride_o = 1;
                bool inside = true;
                /* the x position o·s - p + tap·d, axis by axis from the last */
                for (int a = d - 1; a >= 0; --a) {
                    const int64_t t = tap % g->kernel[a], q = pos % g->y_size[a];
                    tap /= g->kernel[a], pos /= g->y_size[a];
                    const int64_t at = q * g->stride[a] - g->padding[a] + t * g->dilation[a];
                    inside &= at >= 0 && at < g->x_size[a];
                    i += at * stride_o;
                    stride_o *= g->x_size[a];
                    stride_k *= g->kernel[a];
                }
                const int64_t col = inside ? cx * nx + i : -1;
                const char *cell = lands[e * ny + o];
                cr_assert_eq(decode_x(cell, g), col, "group %lld entry (%lld, %lld): printed %s, "
                                                     "expected x element %lld [%s]",
                             (long long)gi, (long long)e, (long long)o, cell, (long long)col,
                             describe(g));
                double want = 0;
                if (transposed)
                    for (int64_t cyl = 0; cyl < cyg; ++cyl) {
                        const int64_t cy = gi * cyg + cyl, w = (cy * cxg + e / K) * K + e % K;
                        want += (double)(1 + w % 4) * (double)(1 + (cy * ny + o) % 7);
                    }
                else
                    want = inside ? (double)(1 + col % 7) : 0;
                cr_assert_eq(strtod(values[e * ny + o], NULL), want,
                             "group %lld cols[%lld][%lld]: printed %s, expected %g [%s]",
                             (long long)gi, (long long)e, (long long)o, values[e * ny + o], want,
                             describe(g));
                /* the library's matrix has this entry's weight there, for each y channel */
                for (int64_t cyl = 0; inside && cyl < cyg; ++cyl) {
                    const int64_t cy = gi * cyg + cyl, row = cy * ny + o;
                    cr_assert_eq(C[row * info.cols + col], (cy * cxg + e / K) * K + e % K,
                                 "C[%lld][%lld] is not the weight of cols entry (%lld, %lld)",
                                 (long long)row, (long long)col, (long long)e, (long long)o);
                }
            }
        free_table(values, rows * ny);
        free_table(lands, rows * ny);
    }
    free(C);
    cr_assert(strstr(text, "Checked: the route gives"), "the route's own check did not pass");
}

Test(explain, gemm_route)
{
    static const geometry_case cases[] = {
        {"--example 1", true, 2, 1, 1, 1, {5, 5}, {3, 3}, {1, 1}, {0, 0}, {0, 0}, {1, 1}},
        {"--example 2", false, 2, 2, 1, 1, {3, 3}, {3, 3}, {2, 2}, {1, 1}, {0, 0}, {1, 1}},
        {"--input-size 9 --kernel-size 3 --stride 2 --padding 1 --dilation 2", true, 1, 1, 1, 1,
         {9}, {3}, {2}, {1}, {0}, {2}},
        {"--transposed --in-channels 4 --out-channels 2 --groups 2 --input-size 3x2 "
         "--kernel-size 2x3 --stride 2x1 --padding 1x0 --output-padding 1x0",
         false, 2, 4, 2, 2, {3, 2}, {2, 3}, {2, 1}, {1, 0}, {1, 0}, {1, 1}},
        {"--transposed --input-size 4 --kernel-size 3 --stride 3 --padding 2 --dilation 2 "
         "--output-padding 1",
         false, 1, 1, 1, 1, {4}, {3}, {3}, {2}, {1}, {2}},
        {"--in-channels 4 --out-channels 6 --groups 2 --input-size 3x4 --kernel-size 2 "
         "--padding 1",
         true, 2, 4, 6, 2, {3, 4}, {2, 2}, {1, 1}, {1, 1}, {0, 0}, {1, 1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        run_result r = explain(cases[c].args);
        cr_assert_eq(r.status, 0, "%s: exit %d, stderr: %s", cases[c].args, r.status, r.err);
        const tconv_geometry g = geometry_of(&cases[c]);
        check_route(r.out, &g);
        run_free(&r);
    }
    /* too large to print, or C too large to check it against: said, and exit 0 */
    run_result r = explain("--in-channels 8 --input-size 6x6 --kernel-size 3");
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_assert(strstr(r.out, "6. The GEMM route") &&
              strstr(r.out, "Not shown here: the route is printed up to 64 rows (here "
                            "C_x/g·Πk = 72)"));
    run_free(&r);
    r = explain("--transposed --in-channels 64 --out-channels 32 --input-size 8x8 "
                "--kernel-size 4 --stride 2 --padding 1");
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_assert(strstr(r.out, "Not shown here: C, which the route is checked against, has more "
                            "than 1048576 entries"));
    run_free(&r);
}
