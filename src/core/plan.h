/*
 * The plan object (tconv_plan), for the files of src/core: everything a call decides
 * before it touches a tensor, kept for its runs.
 */
#ifndef TCONV_CORE_PLAN_H
#define TCONV_CORE_PLAN_H

#include "internal.h"

/* What a plan runs: a layer operation, or one product alone (tconv_product_run). */
typedef enum tconv__task {
    TCONV__TASK_FORWARD,
    TCONV__TASK_BACKWARD,
    TCONV__TASK_PRODUCT
} tconv__task;

/* An input activation as the caller hands it: dense in the call's layout, or a view. */
typedef struct tconv__input {
    bool view;      /* strides given (options.x_strides / y_strides) */
    int64_t st[5];  /* element strides (n, c, a0, a1, a2) */
    bool pack;      /* the run copies it, dense in the products' layout */
    size_t at;      /* ... into the workspace at this offset */
} tconv__input;

struct tconv_plan {
    tconv_geometry g; /* ctx.g points here */
    tconv__ctx ctx;   /* threads: the runs' most; layout: what the products see */
    tconv__task task;
    tconv_op op;             /* forward and backward */
    tconv_product product;   /* the product alone */
    bool conv;               /* the layer is the convolution (else the transposed one) */
    unsigned grads;          /* backward: TCONV_GRAD_* the runs may compute */
    tconv_layout layout;     /* of the caller's activations */
    const tconv__algo *algo;
    tconv__input x_in, y_in; /* the X-shaped and Y-shaped inputs */
    bool out_via_ws;         /* the products' layout differs: the activation output is
                              * written in the workspace, then converted */
    size_t out_at;           /* ... at this offset */
    size_t adapt_bytes;      /* workspace before the products' region */
    bool need[TCONV__PRODUCTS];
    tconv__product_plan pp[TCONV__PRODUCTS];
    /* allocator (a plan made by tconv_plan_create is freed with it) */
    void *(*alloc)(void *ctx, size_t bytes);
    void (*free)(void *ctx, void *ptr);
    void *alloc_ctx;
};

/* The task of a layer operation; false for a value that is not one. */
bool tconv__task_of(tconv_op op, tconv__task *task);

/* Plans into `pl` (the caller's storage, e.g. the stack; it must not move while used). */
tconv_status tconv__plan_init(tconv_plan *pl, const tconv_geometry *g, tconv__task task,
                              tconv_op op, tconv_product product, unsigned grads,
                              tconv_algo algo, tconv_dtype dtype, const tconv_options *opt,
                              tconv_error *err);

/* Workspace bytes of a run with at most `threads` threads; false on overflow. */
bool tconv__plan_bytes(const tconv_plan *pl, int threads, size_t *bytes);

/* A product alone: a = x (apply) or y (apply_t, wgrad); b = weight or x (wgrad). */
tconv_status tconv__plan_product(const tconv_plan *pl, const void *a, const void *b,
                                 const void *weight, void *out, void *workspace,
                                 size_t workspace_bytes, tconv_error *err);

#endif /* TCONV_CORE_PLAN_H */
