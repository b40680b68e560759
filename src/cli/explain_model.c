/* The model `tconv explain` shows: the geometry on three axes, names, and the two views. */
#include "explain.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void explain_buf_printf(explain_buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        const size_t room = b->cap - b->len;
        va_list ap;
        va_start(ap, fmt);
        const int n = vsnprintf(b->data ? b->data + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        const size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
}

void explain_buf_append(explain_buf *b, const char *s, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (b->cap - b->len <= n) {
        const size_t cap = (b->cap + n + 1) * 2;
        char *grown = realloc(b->data, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void explain_buf_free(explain_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

int64_t explain_flat(const int64_t e[3], const int64_t pos[3])
{
    return (pos[0] * e[1] + pos[1]) * e[2] + pos[2];
}

void explain_unflat(const int64_t e[3], int64_t flat, int64_t pos[3])
{
    for (int a = 2; a >= 0; --a) {
        pos[a] = flat % e[a];
        flat /= e[a];
    }
}

tconv_status explain_model_init(explain_model *m, const char *title, const tconv_geometry *g,
                                tconv_error *err)
{
    memset(m, 0, sizeof *m);
    tconv_status s = tconv_matrix_info_get(g, TCONV_F64, &m->info, err);
    if (s != TCONV_OK)
        return s;
    m->title = title;
    m->g = *g;
    const int lead = 3 - g->dims;
    for (int a = 0; a < 3; ++a) {
        const bool unit = a < lead;
        const int u = a - lead;
        m->x[a] = unit ? 1 : g->x_size[u];
        m->y[a] = unit ? 1 : g->y_size[u];
        m->k[a] = unit ? 1 : g->kernel[u];
        m->s[a] = unit ? 1 : g->stride[u];
        m->p[a] = unit ? 0 : g->padding[u];
        m->d[a] = unit ? 1 : g->dilation[u];
        m->op[a] = unit ? 0 : g->output_padding[u];
    }
    m->cx = g->x_channels;
    m->cy = g->y_channels;
    m->cxg = g->x_channels / g->groups;
    m->cyg = g->y_channels / g->groups;
    m->x_count = m->x[0] * m->x[1] * m->x[2];
    m->y_count = m->y[0] * m->y[1] * m->y[2];
    m->k_count = m->k[0] * m->k[1] * m->k[2];

    if (m->info.rows <= EXPLAIN_STRUCTURE_MAX / m->info.cols) {
        const size_t bytes = (size_t)(m->info.rows * m->info.cols) * sizeof(int64_t);
        m->structure = malloc(bytes);
        if (!m->structure) {
            if (err) {
                err->status = TCONV_ENOMEM;
                snprintf(err->message, sizeof err->message,
                         "out of memory for the structure of C (%zu bytes)", bytes);
            }
            return TCONV_ENOMEM;
        }
        s = tconv_matrix_structure(g, TCONV_APPLY, m->structure, NULL, err);
        if (s != TCONV_OK) {
            explain_model_free(m);
            return s;
        }
    }
    m->printable = m->structure && m->info.rows <= EXPLAIN_PRINT_MAX &&
                   m->info.cols <= EXPLAIN_PRINT_MAX;
    /* the last name of each kind is the longest */
    char name[64];
    size_t width = 1;
    explain_weight_name(m, m->cy * m->cxg * m->k_count - 1, name, sizeof name);
    width = strlen(name) > width ? strlen(name) : width;
    explain_x_name(m, m->info.cols - 1, name, sizeof name);
    width = strlen(name) > width ? strlen(name) : width;
    explain_y_name(m, m->info.rows - 1, name, sizeof name);
    width = strlen(name) > width ? strlen(name) : width;
    m->width = (int)width;
    explain_route_init(m);
    return TCONV_OK;
}

void explain_model_free(explain_model *m)
{
    free(m->structure);
    explain_buf_free(&m->check);
    explain_route_free(&m->route);
    m->structure = NULL;
}

/* Appends the position of the used axes: digits when every extent is at most 10
 * ("12"), else "(1,12)". */
static void position_name(const explain_model *m, const int64_t e[3], const int64_t pos[3],
                          char *buf, size_t size)
{
    const int lead = 3 - m->g.dims;
    bool digits = true;
    for (int a = lead; a < 3; ++a)
        digits &= e[a] <= 10;
    size_t len = strlen(buf);
    for (int a = lead; a < 3 && len < size; ++a) {
        const char *sep = digits ? "" : a == lead ? "(" : ",";
        snprintf(buf + len, size - len, "%s%lld", sep, (long long)pos[a]);
        len = strlen(buf);
    }
    if (!digits && len < size)
        snprintf(buf + len, size - len, ")");
}

void explain_weight_slot(const explain_model *m, int64_t w, int64_t *cy, int64_t *cxl,
                         int64_t tap[3])
{
    const int64_t pair = w / m->k_count;
    *cy = pair / m->cxg;
    *cxl = pair % m->cxg;
    explain_unflat(m->k, w % m->k_count, tap);
}

void explain_weight_prefix(const explain_model *m, int64_t pair, char *buf, size_t size)
{
    const int64_t pairs = m->cy * m->cxg;
    if (pairs == 1)
        snprintf(buf, size, "w");
    else if (pairs <= 26)
        snprintf(buf, size, "%c", (char)('a' + pair));
    else
        snprintf(buf, size, "w%lld:", (long long)pair);
}

void explain_weight_name(const explain_model *m, int64_t w, char *buf, size_t size)
{
    int64_t tap[3];
    explain_unflat(m->k, w % m->k_count, tap);
    explain_weight_prefix(m, w / m->k_count, buf, size);
    position_name(m, m->k, tap, buf, size);
}

static void cell_name(const explain_model *m, char letter, int64_t channels,
                      const int64_t e[3], int64_t count, int64_t index, char *buf, size_t size)
{
    int64_t pos[3];
    explain_unflat(e, index % count, pos);
    if (channels > 1)
        snprintf(buf, size, "%c%lld:", letter, (long long)(index / count));
    else
        snprintf(buf, size, "%c", letter);
    position_name(m, e, pos, buf, size);
}

void explain_x_name(const explain_model *m, int64_t col, char *buf, size_t size)
{
    cell_name(m, 'x', m->cx, m->x, m->x_count, col, buf, size);
}

void explain_y_name(const explain_model *m, int64_t row, char *buf, size_t size)
{
    cell_name(m, 'y', m->cy, m->y, m->y_count, row, buf, size);
}

void explain_cols_row_name(const explain_model *m, int64_t row, char *buf, size_t size)
{
    int64_t tap[3];
    explain_unflat(m->k, row % m->k_count, tap);
    if (m->cxg > 1)
        snprintf(buf, size, "%lld:k", (long long)(row / m->k_count));
    else
        snprintf(buf, size, "k");
    position_name(m, m->k, tap, buf, size);
}

void explain_cols_col_name(const explain_model *m, int64_t col, char *buf, size_t size)
{
    int64_t pos[3];
    explain_unflat(m->y, col, pos);
    snprintf(buf, size, m->cy > 1 ? "y:" : "y");
    position_name(m, m->y, pos, buf, size);
}

void explain_spread_of(const explain_model *m, int64_t o_flat, int64_t tap, explain_spread *sp)
{
    int64_t o[3], k[3];
    explain_unflat(m->y, o_flat, o);
    explain_unflat(m->k, tap, k);
    sp->inside = true;
    for (int a = 0; a < 3; ++a) {
        sp->canvas[a] = o[a] * m->s[a] + k[a] * m->d[a];
        sp->i[a] = sp->canvas[a] - m->p[a];
        sp->inside &= sp->i[a] >= 0 && sp->i[a] < m->x[a];
    }
}

void explain_stretch(const explain_model *m, int64_t Z[3], int64_t q[3])
{
    for (int a = 0; a < 3; ++a) {
        q[a] = m->d[a] * (m->k[a] - 1) - m->p[a];
        Z[a] = m->x[a] + m->d[a] * (m->k[a] - 1);
    }
}

int64_t explain_canvas_source(const explain_model *m, const int64_t z[3])
{
    int64_t Z[3], q[3], o[3];
    explain_stretch(m, Z, q);
    for (int a = 0; a < 3; ++a) {
        const int64_t t = z[a] - q[a];
        if (t < 0 || t % m->s[a] != 0 || t / m->s[a] >= m->y[a])
            return -1;
        o[a] = t / m->s[a];
    }
    return explain_flat(m->y, o);
}
