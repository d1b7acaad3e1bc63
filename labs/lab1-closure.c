/*
 * Lab 1: closure-captured state.
 *
 * The lesson: a closure keeps alive everything it captured, for as long as
 * someone keeps the closure. Put closures in a table that only grows (an
 * event listener list, a callback registry) and every context they captured
 * stays in memory with them.
 *
 * The seed: the "closure" section of Node.js memory notes shows, with
 * three tiny JavaScript functions, that an inner function sees the outer
 * one's variables, that the outer cannot see the inner's, and that an
 * inner function handed back to the caller keeps its local alive after
 * the function that declared it has returned. It then warns that what
 * closures and globals hold is not freed soon, and that enough of it
 * exhausts V8's memory. LESSONS.md, "Lab 1: closure-captured state", has
 * the story, with a Node version of our own.
 *
 * C has no closures. The C idiom is a function pointer plus a pointer to
 * an environment on the heap: the code, and the variables it captured.
 * Whoever holds the pair decides how long the environment lives.
 *
 * Modes, the leak and its fixes side by side:
 *   retain   handlers are registered and never removed: the table, and
 *            every 1 MiB context it points to, grows each iteration.
 *            Valgrind: "still reachable" (a pointer still exists).
 *   lose     the table slot is overwritten without freeing the old
 *            context. Valgrind: "definitely lost" (no pointer exists).
 *   release  each handler is unregistered and freed after use: flat.
 *   narrow   the handler captures only the one field it needs, not the
 *            whole context: a few bytes per iteration instead of 1 MiB.
 *   sometimes  release's fix, but one request in ten takes an error path
 *            that forgets the free, an "occasional" leak in the lecture
 *            内存泄漏 ("Memory leaks"): a staircase. Valgrind: "definitely lost".
 *
 * Two columns follow the common six: listeners, the handlers registered,
 * and odd_replies, how many of them replied "odd" to the event (each one
 * says whether the request it captured has an odd id).
 *
 * Run it:  make lab1      or   build/leaklab run 1 --mode retain
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/lab.h"
#include "../harness/probe.h"

/* Each mode is a constant in `enum mode`, an entry in modes[] and a case
 * in every `switch (mode)` below, none of which has a `default:`. The
 * compiler keeps the three in step: a constant without its case is a
 * -Wswitch error, an entry needs its constant, and an entry past the end
 * fails the _Static_assert. A new mode goes last, MODE_COUNT after it. */
enum mode { RETAIN, LOSE, RELEASE, NARROW, SOMETIMES };
enum { MODE_COUNT = SOMETIMES + 1 };

static const struct lab_mode modes[] = {
    [RETAIN] = {
        .name = "retain", .cap_kind = "rlimit", .cap = "128M",
        .caption = "Handlers never removed: every captured 1 MiB context "
                   "stays alive",
        .expect = "finished",
    },
    [LOSE] = {
        .name = "lose", .cap_kind = "rlimit", .cap = "128M",
        .caption = "Slot overwritten without free: the old context is lost "
                   "for good",
        .expect = "finished",
    },
    [RELEASE] = {
        .name = "release", .cap_kind = "rlimit",
        .caption = "Unregister and free after use: memory stays flat",
        .expect = "finished",
    },
    [NARROW] = {
        .name = "narrow", .cap_kind = "rlimit",
        .caption = "Capture one field, not the whole context: bytes, not "
                   "MiB, per handler",
        .expect = "finished",
    },
    [SOMETIMES] = {
        .name = "sometimes", .cap_kind = "rlimit",
        .caption = "The fix, but 1 request in 10 takes an error path that "
                   "skips the free",
        .expect = "finished",
    },
    [MODE_COUNT] = {0},   /* the end: MODE_COUNT is the last mode + 1 */
};
_Static_assert(sizeof modes / sizeof modes[0] == MODE_COUNT + 1,
               "modes[]: one entry per enum mode, then [MODE_COUNT] = {0}");

static const struct lab_info lab = {
    .number = 1,
    .title = "closure-captured state",
    .takeaway = "A listener table that only grows keeps every captured "
                "context alive",
    .showcase = "retain",
    .claim = "A closure keeps alive everything it captured",
    .recap_leak = "closures kept in a table",
    .recap_fix = "unregister and free",
    .recap_tool = "Valgrind's leak check",
    .modes = modes,
    .default_size = 1 << 20,   /* 1 MiB of context per request */
    .default_iterations = 50,
    .extra_columns = "listeners\todd_replies",
};

/* ------------------------------------------------------------------------
 * A closure in C
 * --------------------------------------------------------------------- */

/* Code plus the environment it captured. */
struct closure {
    const char *(*fn)(const struct closure *self);  /* the code */
    void *env;                                      /* captured, on the heap */
};

/* Fact 1: the inner function sees the outer's local, because the outer
 * hands it over (here by pointer: the inner runs while the outer is live). */
static const char *print_captured(const struct closure *self)
{
    return self->env;
}

static void inner_sees_outer(void)
{
    char local[] = "the outer function's local";
    struct closure inner = {print_captured, local};
    printf("inner sees outer:      %s\n", inner.fn(&inner));
}

/* Fact 2: the outer cannot see the inner's local. In C that is a compile
 * error, so there is nothing to run: `local` below exists only inside the
 * braces, and only a closure that captured it could hand it out. */
static void outer_cannot_see_inner(void)
{
    {
        const char *local = "the inner block's local";
        (void)local;
    }
    /* printf("%s\n", local);   error: 'local' undeclared */
    printf("outer sees inner:      (no: 'local' is out of scope here)\n");
}

/* Fact 3: a returned closure keeps its environment alive. make_reader()
 * has returned, yet reader still reaches its text: make_reader copied it
 * to the heap, reader holds the pointer, and nobody frees it till then.
 * Returns a closure whose env is NULL if malloc fails. */
static struct closure make_reader(void)
{
    const char text[] = "a copy on the heap";
    char *local = malloc(sizeof text);
    if (local != NULL)
        memcpy(local, text, sizeof text);
    return (struct closure){print_captured, local};
}

static void show_the_three_facts(void)
{
    inner_sees_outer();
    outer_cannot_see_inner();
    struct closure reader = make_reader();
    if (reader.env == NULL)
        lab_wall("malloc(19) failed before the lab began");
    printf("returned closure:      %s\n", reader.fn(&reader));
    free(reader.env);   /* dropping reader is what finally lets it go */
    printf("-----------------------------------------------------------\n");
}

/* ------------------------------------------------------------------------
 * The leak: a global listener table
 * --------------------------------------------------------------------- */

/* What one request carries: an id and a large body, like a Koa ctx. */
struct request_ctx {
    long id;                  /* the one field a handler actually needs */
    size_t len;               /* bytes in body */
    unsigned char body[];     /* the bulk: headers, payload, buffers */
};

/* What the narrow handler captures instead of the whole context. */
struct narrow_env {
    long id;                  /* copied out of the context */
};

static struct closure *listeners;  /* the global table of handlers */
static size_t nlisteners;          /* handlers registered */
static size_t listeners_cap;       /* slots allocated */
static size_t held_bytes;          /* bytes this lab holds, for messages */

/* The handlers. Both only need the id; one reaches it through the whole
 * context, the other through a copy. */
static const char *on_request(const struct closure *self)
{
    const struct request_ctx *ctx = self->env;
    return ctx->id % 2 ? "odd" : "even";
}

static const char *on_request_narrow(const struct closure *self)
{
    const struct narrow_env *env = self->env;
    return env->id % 2 ? "odd" : "even";
}

/* Builds a request context and touches every byte, so it is resident and
 * shows up in rss. Exits 3 if malloc returns NULL. */
static struct request_ctx *make_context(long id, size_t size)
{
    struct request_ctx *ctx = malloc(sizeof *ctx + size);
    if (ctx == NULL)
        lab_wall("malloc(%zu) for request %ld returned NULL, holding "
                 "%.2f MiB", sizeof *ctx + size, id, held_bytes / 1048576.0);
    ctx->id = id;
    ctx->len = size;
    memset(ctx->body, (int)(id & 0xff) | 1, size);
    held_bytes += sizeof *ctx + size;
    return ctx;
}

/* Appends a handler to the table, growing it by doubling. Exits 3 if the
 * table cannot grow. */
static void add_listener(struct closure handler)
{
    if (nlisteners == listeners_cap) {
        size_t cap = listeners_cap ? 2 * listeners_cap : 16;
        struct closure *grown = realloc(listeners, cap * sizeof *grown);
        if (grown == NULL)
            lab_wall("realloc of the listener table to %zu slots failed",
                     cap);
        listeners = grown;
        listeners_cap = cap;
    }
    listeners[nlisteners++] = handler;
}

/* Calls every handler, as an event emitter does. Returns how many replied
 * "odd": the TSV's odd_replies, which shows what the handlers said. */
static size_t emit(void)
{
    size_t odd = 0;
    for (size_t i = 0; i < nlisteners; i++)
        odd += listeners[i].fn(&listeners[i])[0] == 'o';
    return odd;
}

int main(int argc, char **argv)
{
    struct lab_args a;
    lab_parse(&lab, argc, argv, &a);
    enum mode mode = (enum mode)(a.mode - modes);   /* a.mode is modes[mode] */
    if (!a.quiet)
        show_the_three_facts();

    probe_start(&lab, &a, argc, argv);
    int64_t extra[2] = {0, 0};   /* listeners, odd_replies */
    probe_sample(0, extra);
    /* GCC 12's -fanalyzer (make lint) follows a `default:` that the switch
     * below does not have, and finds ctx leaked there. There is no such
     * path: lab_parse() only hands back a mode from modes[]. */
#ifndef __clang__
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
    for (long i = 1; i <= a.iterations; i++) {
        struct request_ctx *ctx = make_context(i, a.size);
        size_t odd = 0;          /* what the handlers replied to the event */

        switch (mode) {
        case RETAIN:
            /* The bug: register, never unregister. */
            add_listener((struct closure){on_request, ctx});
            odd = emit();
            break;
        case LOSE:
            /* The worse bug: one slot, overwritten. The old context has
             * no pointer left anywhere, so nothing can ever free it. */
            if (nlisteners == 0)
                add_listener((struct closure){on_request, ctx});
            listeners[0] = (struct closure){on_request, ctx};
            odd = emit();
            break;
        case RELEASE:
            /* The fix: unregister after use, and free what was captured. */
            add_listener((struct closure){on_request, ctx});
            odd = emit();
            nlisteners--;
            free(ctx);
            held_bytes -= sizeof *ctx + a.size;
            break;
        case NARROW: {
            /* The other fix: capture what you need, drop the rest. */
            struct narrow_env *env = malloc(sizeof *env);
            if (env == NULL)
                lab_wall("malloc(%zu) returned NULL", sizeof *env);
            env->id = ctx->id;
            add_listener((struct closure){on_request_narrow, env});
            odd = emit();
            free(ctx);
            held_bytes -= sizeof *ctx + a.size - sizeof *env;
            break;
        }
        case SOMETIMES:
            /* The occasional leak: release's fix, except that one request
             * in ten fails (a client that hung up, say), and its error
             * path unregisters the handler but returns before the free.
             * A test that never fails a request never sees it. */
            add_listener((struct closure){on_request, ctx});
            odd = emit();
            nlisteners--;
            if (ctx->id % 10 != 0) {
                free(ctx);
                held_bytes -= sizeof *ctx + a.size;
            }
            break;
        }
        extra[0] = (int64_t)nlisteners;
        extra[1] = (int64_t)odd;
        probe_sample(i, extra);
    }
#ifndef __clang__
#pragma GCC diagnostic pop
#endif
    probe_finish();

    /* retain, lose and narrow leave their memory to the end on purpose:
     * that is what Valgrind reports on. release cleans up completely, and
     * so does sometimes, but for the contexts its error path dropped. */
    switch (mode) {
    case RETAIN:
    case LOSE:
    case NARROW:
        break;
    case RELEASE:
    case SOMETIMES:
        free(listeners);
        listeners = NULL;
        break;
    }
    return EXIT_DONE;
}
