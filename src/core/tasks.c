/*
 * Parallel regions and independent tasks across a team, or on the calling thread alone.
 *
 * libgomp ends every parallel region, and every worksharing loop's barrier, with a futex
 * system call, a team of one included: 1.0 us for a region of two loops against 0.13 us
 * for the same loops called directly (GCC 12, measured), which was most of a 3x3 layer's
 * call. A team of one outside any parallel region therefore runs its tasks in a plain
 * loop. Inside a caller's region the tasks still get a region of their own, so that no
 * worksharing construct ever binds to the caller's team.
 */
#include "internal.h"

#include "threads.h"

void tconv__for_tasks(int team, int64_t count, bool dynamic, tconv__task_fn task,
                      const void *arg)
{
    if (count <= 0)
        return;
    if (team > count)
        team = (int)count; /* a thread without a task would only be woken and wait */
    if (team <= 1 && !tconv__in_parallel()) {
        for (int64_t t = 0; t < count; ++t)
            task(arg, t, 0);
        return;
    }
    if (dynamic) {
#pragma omp parallel for num_threads(team) schedule(dynamic)
        for (int64_t t = 0; t < count; ++t)
            task(arg, t, tconv__thread_num());
    } else {
#pragma omp parallel for num_threads(team) schedule(static)
        for (int64_t t = 0; t < count; ++t)
            task(arg, t, tconv__thread_num());
    }
}

void tconv__region(int team, tconv__region_fn body, const tconv__region_args *arg)
{
    if (team <= 1 && !tconv__in_parallel()) {
        /* the worksharing constructs inside bind to the caller's team of one; the GEMMs'
         * thread count is the caller's until the body ends, then the caller's again */
        const int caller = tconv__max_threads();
        tconv__team_member();
        body(arg);
        tconv__set_max_threads(caller);
        return;
    }
#pragma omp parallel num_threads(team)
    {
        tconv__team_member();
        body(arg);
    }
}
