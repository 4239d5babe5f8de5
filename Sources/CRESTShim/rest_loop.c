/* A loop thread: takes commands, drives libcurl's multi handle, completes finished transfers.
 *
 * Each client has its own loop, so that closing the client closes its connections (libcurl's
 * connection cache belongs to the multi handle). The loop drives libcurl's socket interface from
 * its own epoll set: libcurl says which sockets to watch (socket callback) and when to call it
 * back (timer callback), and each wake-up hands it exactly the socket that is ready — no poll of
 * every socket per turn, which curl_multi_poll + curl_multi_perform cost (measured: 14 poll calls
 * per request). An eventfd wakes the loop for commands queued by rest_loop_enqueue (any thread).
 *
 * References: the creator holds one until it releases it, the thread one until it exits, and each
 * call one until it is freed; the last one frees the loop.
 */
#include "internal.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 64

/* Easy handles kept for reuse: a reset handle keeps its allocations (and libcurl its DNS cache). */
#define SPARE_HANDLES 64

struct rest_loop {
    atomic_int refs;
    pthread_mutex_t lock;
    rest_command *head, *tail; /* under lock */
    bool closed;               /* under lock: no command is accepted */
    rest_command stop_cmd;
    CURLM *multi;
    int epoll_fd;
    int wake_fd;               /* eventfd: commands are queued */
    long long timer_due_ms;    /* loop thread: when libcurl wants to be called back; -1: never */
    atomic_bool jobs_signalled;
    rest_job_runner_fn job_runner;
    void *job_runner_context;
    /* Loop thread only. */
    CURL *spare[SPARE_HANDLES];
    int spare_count;
    rest_call *active; /* running transfers, linked through prev_active/next_active */
    /* Per socket number: the events epoll watches (0: not in the set) and whether libcurl wants
       them (see watch_socket). */
    struct watched_socket *watched;
    int watched_count;
};

struct watched_socket {
    uint32_t events;
    bool wanted;
    bool tracked; /* opened by open_socket and not yet closed: `events` is what epoll has */
};

/* The loop whose thread this is: what it queues for itself needs no wake-up. */
static __thread rest_loop *current_loop;

void rest_loop_retain(rest_loop *loop) {
    atomic_fetch_add_explicit(&loop->refs, 1, memory_order_relaxed);
}

void rest_loop_release(rest_loop *loop) {
    if (atomic_fetch_sub_explicit(&loop->refs, 1, memory_order_acq_rel) != 1) return;
    pthread_mutex_destroy(&loop->lock);
    free(loop);
}

static rest_call *call_of(rest_command *cmd) {
    return cmd->kind == REST_CMD_START
        ? (rest_call *)((char *)cmd - offsetof(rest_call, start_cmd))
        : (rest_call *)((char *)cmd - offsetof(rest_call, cancel_cmd));
}

static CURL *take_handle(rest_loop *loop) {
    return loop->spare_count > 0 ? loop->spare[--loop->spare_count] : rest_curl.easy_init();
}

/* Connect-only handles own their connection: cleaning them up closes it. */
static void return_handle(rest_loop *loop, CURL *easy, bool connect_only) {
    if (!connect_only && loop->spare_count < SPARE_HANDLES) {
        rest_curl.easy_reset(easy);
        loop->spare[loop->spare_count++] = easy;
    } else {
        rest_curl.easy_cleanup(easy);
    }
}

static curl_socket_t open_socket(void *userp, curlsocktype purpose, struct curl_sockaddr *address);
static int close_socket(void *userp, curl_socket_t s);

/* The connections a transfer opens are opened and closed through the loop (see watch_socket). */
static bool track_sockets(rest_loop *loop, CURL *easy) {
    return rest_curl.easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_socket) == CURLE_OK
        && rest_curl.easy_setopt(easy, CURLOPT_OPENSOCKETDATA, loop) == CURLE_OK
        && rest_curl.easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, close_socket) == CURLE_OK
        && rest_curl.easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, loop) == CURLE_OK;
}

static void link_active(rest_loop *loop, rest_call *call) {
    call->prev_active = NULL;
    call->next_active = loop->active;
    if (loop->active) loop->active->prev_active = call;
    loop->active = call;
}

static void unlink_active(rest_loop *loop, rest_call *call) {
    if (call->prev_active) {
        call->prev_active->next_active = call->next_active;
    } else {
        loop->active = call->next_active;
    }
    if (call->next_active) call->next_active->prev_active = call->prev_active;
    call->prev_active = call->next_active = NULL;
}

static void start(rest_loop *loop, rest_call *call) {
    if (atomic_load(&call->cancel_requested)) {
        rest_call_fail(call, REST_CANCELLED, "cancelled before it started");
        return;
    }
    CURL *easy = take_handle(loop);
    if (!easy || !rest_call_configure(call, easy) || !track_sockets(loop, easy)
        || rest_curl.multi_add_handle(loop->multi, easy) != CURLM_OK) {
        if (easy) return_handle(loop, easy, true);
        rest_call_fail(call, REST_NOT_SENT, call->error[0] ? call->error : "libcurl could not set up the request");
        return;
    }
    call->easy = easy;
    rest_call_retain(call); /* the multi's reference, dropped when the transfer ends */
    link_active(loop, call);
}

/* Removing a transfer from the multi closes its HTTP/1.1 connection. */
static void end_transfer(rest_loop *loop, rest_call *call, CURLcode code, bool cancelled) {
    CURL *easy = call->easy;
    call->easy = NULL;
    unlink_active(loop, call);
    rest_curl.multi_remove_handle(loop->multi, easy);
    if (cancelled) {
        rest_call_fail(call, REST_CANCELLED, "cancelled");
    } else {
        rest_call_finish(call, easy, code);
    }
    return_handle(loop, easy, call->request.connect_only);
    rest_call_release(call);
}

static rest_command *take_commands(rest_loop *loop) {
    pthread_mutex_lock(&loop->lock);
    rest_command *cmd = loop->head;
    loop->head = loop->tail = NULL;
    pthread_mutex_unlock(&loop->lock);
    return cmd;
}

/* Whether a request completed. */
static bool complete_finished(rest_loop *loop) {
    bool completed = false;
    int left;
    CURLMsg *msg;
    while ((msg = rest_curl.multi_info_read(loop->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        rest_call *call = NULL;
        rest_curl.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        CURLcode code = msg->data.result; /* read before removal invalidates msg */
        end_transfer(loop, call, code, false);
        completed = true;
    }
    return completed;
}

/* Cancels what still runs and closes every connection; no command can arrive any more. */
static void stop(rest_loop *loop) {
    while (loop->active) end_transfer(loop, loop->active, CURLE_OK, true);
    pthread_mutex_lock(&loop->lock); /* waits out a wakeup in progress (they happen under the lock) */
    pthread_mutex_unlock(&loop->lock);
    rest_curl.multi_cleanup(loop->multi);
    while (loop->spare_count > 0) rest_curl.easy_cleanup(loop->spare[--loop->spare_count]);
    close(loop->epoll_fd);
    close(loop->wake_fd);
    free(loop->watched);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The entry of socket number `s`, growing the table; NULL without memory. */
static struct watched_socket *watched(rest_loop *loop, curl_socket_t s) {
    if (s < 0) return NULL;
    if (s >= loop->watched_count) {
        int count = loop->watched_count ? loop->watched_count : 64;
        while (count <= s) count *= 2;
        struct watched_socket *grown = realloc(loop->watched, (size_t)count * sizeof *grown);
        if (!grown) return NULL;
        memset(grown + loop->watched_count, 0, (size_t)(count - loop->watched_count) * sizeof *grown);
        loop->watched = grown;
        loop->watched_count = count;
    }
    return &loop->watched[s];
}

/* Makes epoll watch `s` for `events` (0: not at all). Only a tracked socket's entry is known to be
   epoll's: another socket (libcurl's resolver makes a socket pair of its own) may reuse the number
   of one that was closed, which epoll forgot. When the table is wrong, the other operation fits. */
static void set_watch(rest_loop *loop, curl_socket_t s, struct watched_socket *entry, uint32_t events) {
    if (entry && entry->tracked && entry->events == events) return;
    struct epoll_event ev = {.events = events, .data.fd = s};
    if (events == 0) {
        epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, s, NULL);
    } else if (epoll_ctl(loop->epoll_fd, entry && entry->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) != 0) {
        epoll_ctl(loop->epoll_fd, entry && entry->events ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s, &ev);
    }
    if (entry) entry->events = events;
}

/* libcurl's socket callback: watch `s` for what it asks, or stop watching it.
 *
 * Stopping is lazy: a keep-alive connection's socket stays in the epoll set between transfers, and
 * its next transfer asks for the same events, so a reused connection costs no epoll_ctl (it was
 * two per request: the watch and its removal). An unwanted socket that becomes ready (the server
 * closed the idle connection) is taken out then (see unwanted_event). */
static int watch_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
    (void)easy;
    (void)socketp;
    rest_loop *loop = userp;
    struct watched_socket *entry = watched(loop, s);
    if (what == CURL_POLL_REMOVE) {
        if (entry) {
            entry->wanted = false;
        } else {
            set_watch(loop, s, NULL, 0);
        }
        return 0;
    }
    uint32_t events = 0;
    if (what & CURL_POLL_IN) events |= EPOLLIN;
    if (what & CURL_POLL_OUT) events |= EPOLLOUT;
    set_watch(loop, s, entry, events);
    if (entry) entry->wanted = true;
    return 0;
}

/* libcurl's socket opener and closer for connections: the table knows when a socket number starts
   and stops being a connection's, which makes skipping an unchanged watch safe. */
static curl_socket_t open_socket(void *userp, curlsocktype purpose, struct curl_sockaddr *address) {
    (void)purpose;
    rest_loop *loop = userp;
    curl_socket_t s = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    struct watched_socket *entry = watched(loop, s);
    if (entry) *entry = (struct watched_socket){.tracked = true};
    return s;
}

static int close_socket(void *userp, curl_socket_t s) {
    rest_loop *loop = userp;
    struct watched_socket *entry = watched(loop, s);
    if (entry) *entry = (struct watched_socket){0}; /* closing takes it out of the epoll set */
    return close(s);
}

/* Whether an event is for a socket libcurl no longer watches: then it leaves the epoll set (else
   a closed idle connection would wake the loop on every turn). */
static bool unwanted_event(rest_loop *loop, int fd) {
    if (fd < 0 || fd >= loop->watched_count || loop->watched[fd].wanted) return false;
    set_watch(loop, fd, &loop->watched[fd], 0);
    return true;
}

/* libcurl's timer callback: call curl_multi_socket_action(CURL_SOCKET_TIMEOUT) in `timeout_ms`. */
static int set_timer(CURLM *multi, long timeout_ms, void *userp) {
    (void)multi;
    rest_loop *loop = userp;
    loop->timer_due_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
}

static int epoll_timeout(const rest_loop *loop) {
    if (loop->timer_due_ms < 0) return -1;
    long long left = loop->timer_due_ms - now_ms();
    return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/* After a turn that completed a request, its caller (on another thread) usually starts its next
 * one within microseconds: looking at the queue for up to IDLE_WAIT_NS, yielding the CPU between
 * looks, saves the eventfd write and the wake-up a sleeping loop costs (as the HTTP/2 shim's loop
 * does). Callers on the loop's own executor have already started theirs in the turn: no wait. */
#define IDLE_WAIT_NS 50000LL

static bool commands_queued(rest_loop *loop) {
    pthread_mutex_lock(&loop->lock);
    bool queued = loop->head != NULL;
    pthread_mutex_unlock(&loop->lock);
    return queued || atomic_load(&loop->jobs_signalled);
}

static void await_next_command(rest_loop *loop) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        sched_yield();
        if (commands_queued(loop)) return;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000000000LL + (now.tv_nsec - start.tv_nsec) < IDLE_WAIT_NS);
}

/* Runs the queued commands; false once the loop stopped (then it is released). */
static bool run_commands(rest_loop *loop, rest_command *cmd) {
    while (cmd) {
        rest_command *next = cmd->next;
        if (cmd->kind == REST_CMD_STOP) {
            stop(loop);
            if (loop->job_runner) loop->job_runner(loop->job_runner_context, true);
            rest_loop_release(loop);
            return false;
        }
        rest_call *call = call_of(cmd);
        if (cmd->kind == REST_CMD_START) {
            start(loop, call);
        } else if (call->easy) {
            end_transfer(loop, call, CURLE_OK, true);
        }
        rest_call_release(call); /* the command's reference */
        cmd = next;
    }
    return true;
}

static void *loop_main(void *arg) {
    rest_loop *loop = arg;
    current_loop = loop;
    struct epoll_event events[MAX_EVENTS];
    int running = 0;
    for (;;) {
        int n = epoll_wait(loop->epoll_fd, events, MAX_EVENTS, commands_queued(loop) ? 0 : epoll_timeout(loop));
        if (n < 0 && errno != EINTR) {
            perror("restshim: epoll_wait");
            abort();
        }
        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;
            if (fd == loop->wake_fd) {
                uint64_t value;
                ssize_t ignored = read(loop->wake_fd, &value, sizeof value);
                (void)ignored;
                continue;
            }
            if (unwanted_event(loop, fd)) continue;
            int flags = 0;
            if (events[i].events & (EPOLLIN | EPOLLHUP)) flags |= CURL_CSELECT_IN;
            if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
            if (events[i].events & EPOLLERR) flags |= CURL_CSELECT_ERR;
            rest_curl.multi_socket_action(loop->multi, fd, flags, &running);
        }
        /* Completions resume jobs and jobs start requests: go round until all three are drained,
           so that a caller on the loop's executor makes its next request in this same turn. */
        bool completed_any = false, ran_jobs = false;
        for (;;) {
            rest_command *cmd = take_commands(loop);
            if (!run_commands(loop, cmd)) return NULL;
            if (loop->timer_due_ms >= 0 && loop->timer_due_ms <= now_ms()) {
                loop->timer_due_ms = -1;
                rest_curl.multi_socket_action(loop->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            }
            bool completed = complete_finished(loop);
            completed_any |= completed;
            bool jobs = atomic_exchange(&loop->jobs_signalled, false);
            if (jobs && loop->job_runner) loop->job_runner(loop->job_runner_context, false);
            ran_jobs |= jobs;
            if (!cmd && !completed && !jobs) break;
        }
        if (completed_any && !ran_jobs) await_next_command(loop);
    }
}

rest_loop *rest_loop_create(void) {
    if (!rest_curl_load()) return NULL;
    rest_loop *loop = calloc(1, sizeof *loop);
    if (!loop) return NULL;
    if (!(loop->multi = rest_curl.multi_init())) {
        free(loop);
        return NULL;
    }
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event wake = {.events = EPOLLIN, .data.fd = loop->wake_fd};
    if (loop->epoll_fd < 0 || loop->wake_fd < 0 || epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, loop->wake_fd, &wake) != 0) {
        if (loop->epoll_fd >= 0) close(loop->epoll_fd);
        if (loop->wake_fd >= 0) close(loop->wake_fd);
        rest_curl.multi_cleanup(loop->multi);
        free(loop);
        return NULL;
    }
    loop->timer_due_ms = -1;
    pthread_mutex_init(&loop->lock, NULL);
    loop->stop_cmd.kind = REST_CMD_STOP;
    rest_curl.multi_setopt(loop->multi, CURLMOPT_SOCKETFUNCTION, watch_socket);
    rest_curl.multi_setopt(loop->multi, CURLMOPT_SOCKETDATA, loop);
    rest_curl.multi_setopt(loop->multi, CURLMOPT_TIMERFUNCTION, set_timer);
    rest_curl.multi_setopt(loop->multi, CURLMOPT_TIMERDATA, loop);
    /* Idle keep-alive connections kept for reuse; the pool above bounds how many are busy. */
    rest_curl.multi_setopt(loop->multi, CURLMOPT_MAXCONNECTS, 256L);
    rest_curl.multi_setopt(loop->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    atomic_init(&loop->refs, 2); /* the creator's and the thread's */

    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    bool started = pthread_create(&thread, &attr, loop_main, loop) == 0;
    pthread_attr_destroy(&attr);
    if (!started) {
        rest_curl.multi_cleanup(loop->multi);
        close(loop->epoll_fd);
        close(loop->wake_fd);
        pthread_mutex_destroy(&loop->lock);
        free(loop);
        return NULL;
    }
    return loop;
}

static bool append(rest_loop *loop, rest_command *cmd, bool closing) {
    cmd->next = NULL;
    pthread_mutex_lock(&loop->lock);
    bool accepted = !loop->closed;
    if (accepted) {
        loop->closed = closing;
        bool was_empty = loop->head == NULL; /* else a wake-up is already on its way */
        if (loop->tail) {
            loop->tail->next = cmd;
        } else {
            loop->head = cmd;
        }
        loop->tail = cmd;
        if (was_empty && current_loop != loop) { /* the loop looks at its queue before it sleeps */
            uint64_t one = 1;
            ssize_t ignored = write(loop->wake_fd, &one, sizeof one);
            (void)ignored;
        }
    }
    pthread_mutex_unlock(&loop->lock);
    return accepted;
}

void rest_loop_set_job_runner(rest_loop *loop, rest_job_runner_fn runner, void *context) {
    loop->job_runner_context = context;
    loop->job_runner = runner;
}

void rest_loop_signal_jobs(rest_loop *loop) {
    if (atomic_exchange(&loop->jobs_signalled, true) || current_loop == loop) return;
    pthread_mutex_lock(&loop->lock);
    if (!loop->closed) { /* else the stop's own wake-up is on its way, and the wake fd may be gone */
        uint64_t one = 1;
        ssize_t ignored = write(loop->wake_fd, &one, sizeof one);
        (void)ignored;
    }
    pthread_mutex_unlock(&loop->lock);
}

bool rest_loop_is_current(rest_loop *loop) { return current_loop == loop; }

bool rest_loop_enqueue(rest_loop *loop, rest_command *cmd) {
    return append(loop, cmd, false);
}

void rest_loop_close(rest_loop *loop) {
    append(loop, &loop->stop_cmd, true);
}
