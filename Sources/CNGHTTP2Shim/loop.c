/* The event-loop thread: epoll over sockets and an eventfd, a command queue, and timers. */
#include "internal.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MAX_EVENTS 64

/* epoll's data pointer is either the loop itself (the eventfd) or a connection. */

void loop_enqueue(h2shim_loop *loop, command *cmd) {
    cmd->next = NULL;
    pthread_mutex_lock(&loop->queue_lock);
    bool was_empty = loop->queue_head == NULL;
    if (loop->queue_tail) loop->queue_tail->next = cmd;
    else loop->queue_head = cmd;
    loop->queue_tail = cmd;
    pthread_mutex_unlock(&loop->queue_lock);
    /* Only the first command after a drain can find the loop asleep; later ones ride along. */
    if (was_empty && atomic_load(&loop->polling)) {
        uint64_t one = 1;
        ssize_t ignored = write(loop->wake_fd, &one, sizeof one);
        (void)ignored;
    }
}

void h2shim_loop_set_job_runner(h2shim_loop *loop, h2shim_job_runner_fn runner, void *context) {
    loop->job_runner_context = context;
    loop->job_runner = runner;
}

void h2shim_loop_signal_jobs(h2shim_loop *loop) {
    if (atomic_exchange(&loop->jobs_signalled, true)) return; /* already due: the runner drains all */
    if (atomic_load(&loop->polling)) {
        uint64_t one = 1;
        ssize_t ignored = write(loop->wake_fd, &one, sizeof one);
        (void)ignored;
    }
}

bool h2shim_loop_is_current(h2shim_loop *loop) { return pthread_equal(pthread_self(), loop->thread); }

static command *take_commands(h2shim_loop *loop) {
    pthread_mutex_lock(&loop->queue_lock);
    command *head = loop->queue_head;
    loop->queue_head = loop->queue_tail = NULL;
    pthread_mutex_unlock(&loop->queue_lock);
    return head;
}

bool loop_schedule(h2shim_loop *loop, timer *t, uint64_t due_ns) {
    loop_unschedule(loop, t);
    t->due_ns = due_ns;
    return timer_heap_push(&loop->timers, t);
}

void loop_unschedule(h2shim_loop *loop, timer *t) {
    if (t->heap_index != SIZE_MAX) timer_heap_remove(&loop->timers, t);
}

int loop_watch(h2shim_loop *loop, h2shim_conn *conn, int fd, bool want_write) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (want_write ? EPOLLOUT : 0), .data.ptr = conn};
    if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, fd, &ev) == 0) return 0;
    return epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

void loop_unwatch(h2shim_loop *loop, int fd) {
    epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
}

void loop_add_conn(h2shim_loop *loop, h2shim_conn *conn) {
    conn->prev = NULL;
    conn->next = loop->conns;
    if (loop->conns) loop->conns->prev = conn;
    loop->conns = conn;
}

void loop_remove_conn(h2shim_loop *loop, h2shim_conn *conn) {
    if (conn->prev) conn->prev->next = conn->next;
    else if (loop->conns == conn) loop->conns = conn->next;
    if (conn->next) conn->next->prev = conn->prev;
    conn->prev = conn->next = NULL;
}

static void run_command(command *cmd) {
    switch (cmd->kind) {
    case CMD_CONNECT: {
        h2shim_conn *conn = CONTAINER_OF(cmd, h2shim_conn, connect_cmd);
        conn_start_connect(conn);
        break;
    }
    case CMD_RESOLVED: {
        h2shim_conn *conn = CONTAINER_OF(cmd, h2shim_conn, resolved_cmd);
        conn_finish_resolve(conn);
        h2shim_conn_release(conn); /* the resolver thread's reference */
        break;
    }
    case CMD_SUBMIT: {
        h2shim_call *call = CONTAINER_OF(cmd, h2shim_call, submit_cmd);
        conn_submit_call(call->conn, call);
        break;
    }
    case CMD_CANCEL: {
        h2shim_call *call = CONTAINER_OF(cmd, h2shim_call, cancel_cmd);
        conn_cancel_call(call, H2SHIM_CANCELLED);
        h2shim_call_release(call); /* the command's reference */
        break;
    }
    case CMD_SHUTDOWN: {
        h2shim_conn *conn = CONTAINER_OF(cmd, h2shim_conn, shutdown_cmd);
        conn_begin_shutdown(conn);
        h2shim_conn_release(conn);
        break;
    }
    case CMD_CLOSE: {
        h2shim_conn *conn = CONTAINER_OF(cmd, h2shim_conn, close_cmd);
        conn_end(conn, "closed by the client", true);
        h2shim_conn_release(conn);
        break;
    }
    }
}

static void fire_due_timers(h2shim_loop *loop) {
    uint64_t now = monotonic_now_ns();
    timer *t;
    while ((t = timer_heap_peek(&loop->timers)) && t->due_ns <= now) {
        timer_heap_remove(&loop->timers, t);
        switch (t->kind) {
        case TIMER_CALL_DEADLINE: {
            h2shim_call *call = CONTAINER_OF(t, h2shim_call, deadline);
            conn_cancel_call(call, H2SHIM_DEADLINE_EXCEEDED);
            break;
        }
        case TIMER_CONNECT:
            conn_on_timer(CONTAINER_OF(t, h2shim_conn, connect_timer), t);
            break;
        case TIMER_KEEPALIVE:
            conn_on_timer(CONTAINER_OF(t, h2shim_conn, keepalive_timer), t);
            break;
        }
    }
}

static int next_timeout_ms(h2shim_loop *loop) {
    timer *t = timer_heap_peek(&loop->timers);
    if (!t) return -1;
    uint64_t now = monotonic_now_ns();
    if (t->due_ns <= now) return 0;
    uint64_t ms = (t->due_ns - now + 999999) / 1000000;
    return ms > 60000 ? 60000 : (int)ms;
}

static void flush_all(h2shim_loop *loop) {
    h2shim_conn *conn = loop->conns;
    while (conn) {
        h2shim_conn *next = conn->next; /* flushing may close and unlink the connection */
        conn_flush(conn);
        conn = next;
    }
}

/* Whether any stream is open on any connection of the loop. */
static bool streams_in_flight(h2shim_loop *loop) {
    for (h2shim_conn *conn = loop->conns; conn; conn = conn->next) {
        if (atomic_load_explicit(&conn->streams_open, memory_order_relaxed) > 0) return true;
    }
    return false;
}

/* After a turn that completed a call and left no stream open, the caller usually submits its next
   call within microseconds. Waiting for it here, yielding the CPU between looks at the queue, saves
   the round trip through epoll and the eventfd (a write, a wake-up, a read) that a sleeping loop
   costs on the one-call-at-a-time path. Nothing is in flight meanwhile, so no socket needs
   watching; after IDLE_WAIT_NS without a command the loop sleeps in epoll as usual. */
#define IDLE_WAIT_NS 50000

static void await_next_command(h2shim_loop *loop) {
    uint64_t give_up = monotonic_now_ns() + IDLE_WAIT_NS;
    do {
        sched_yield();
        pthread_mutex_lock(&loop->queue_lock);
        bool queued = loop->queue_head != NULL;
        pthread_mutex_unlock(&loop->queue_lock);
        if (queued || atomic_load(&loop->jobs_signalled)) return;
    } while (monotonic_now_ns() < give_up);
}

static void *loop_main(void *arg) {
    h2shim_loop *loop = arg;
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int timeout = 0;
        atomic_store(&loop->polling, true);
        pthread_mutex_lock(&loop->queue_lock);
        bool idle = loop->queue_head == NULL;
        pthread_mutex_unlock(&loop->queue_lock);
        idle = idle && !atomic_load(&loop->jobs_signalled);
        if (idle) timeout = next_timeout_ms(loop);
        int n = epoll_wait(loop->epoll_fd, events, MAX_EVENTS, timeout);
        atomic_store(&loop->polling, false);
        if (n < 0 && errno != EINTR) {
            perror("h2shim: epoll_wait");
            abort();
        }
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == loop) {
                uint64_t value;
                ssize_t ignored = read(loop->wake_fd, &value, sizeof value);
                (void)ignored;
                continue;
            }
            h2shim_conn *conn = events[i].data.ptr;
            conn_retain(conn);
            conn_handle_io(conn, events[i].events);
            h2shim_conn_release(conn);
        }
        /* Jobs submit calls and calls complete into jobs: alternate until both are drained, so that
           everything they produce in this turn leaves in the flush below. */
        for (;;) {
            command *cmd = take_commands(loop);
            bool jobs = atomic_exchange(&loop->jobs_signalled, false);
            if (!cmd && !jobs) break;
            while (cmd) {
                command *next = cmd->next;
                run_command(cmd);
                cmd = next;
            }
            if (jobs) loop->job_runner(loop->job_runner_context);
        }
        fire_due_timers(loop);
        flush_all(loop);
        if (loop->completed_in_turn && !streams_in_flight(loop)) await_next_command(loop);
        loop->completed_in_turn = false;
    }
    return NULL;
}

static h2shim_loop *loop_create(void) {
    h2shim_loop *loop = calloc(1, sizeof *loop);
    if (!loop) return NULL;
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->epoll_fd < 0 || loop->wake_fd < 0) {
        perror("h2shim: cannot create the event loop");
        abort();
    }
    pthread_mutex_init(&loop->queue_lock, NULL);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = loop};
    epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, loop->wake_fd, &ev);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&loop->thread, &attr, loop_main, loop) != 0) {
        perror("h2shim: cannot start the event loop thread");
        abort();
    }
    pthread_attr_destroy(&attr);
    return loop;
}

static h2shim_loop *shared_loop;
static pthread_once_t shared_loop_once = PTHREAD_ONCE_INIT;

static void make_shared_loop(void) { shared_loop = loop_create(); }

h2shim_loop *h2shim_loop_shared(void) {
    pthread_once(&shared_loop_once, make_shared_loop);
    return shared_loop;
}
