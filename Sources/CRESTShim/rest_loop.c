/* The loop thread: takes commands, drives libcurl's multi handle, completes finished transfers.
 *
 * One shared loop serves every REST client of the process, as the HTTP/2 shim's loop does: its
 * connection cache is keyed by origin and TLS settings, so clients never share a connection they
 * could not both use. curl_multi_poll sleeps until a socket is ready, a timer of libcurl's is due or
 * curl_multi_wakeup is called (from rest_loop_enqueue, any thread).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

/* Easy handles kept for reuse: a reset handle keeps its allocations (and libcurl its DNS cache). */
#define SPARE_HANDLES 64

typedef struct rest_loop {
    pthread_mutex_t lock;
    rest_command *head, *tail; /* under lock */
    CURLM *multi;
    CURL *spare[SPARE_HANDLES]; /* loop thread only */
    int spare_count;
} rest_loop;

static rest_loop *shared_loop;
static pthread_once_t shared_loop_once = PTHREAD_ONCE_INIT;

static rest_call *call_of(rest_command *cmd) {
    return cmd->kind == REST_CMD_START
        ? (rest_call *)((char *)cmd - offsetof(rest_call, start_cmd))
        : (rest_call *)((char *)cmd - offsetof(rest_call, cancel_cmd));
}

static CURL *take_handle(rest_loop *loop) {
    return loop->spare_count > 0 ? loop->spare[--loop->spare_count] : curl_easy_init();
}

/* Connect-only handles own their connection: cleaning them up closes it. */
static void return_handle(rest_loop *loop, CURL *easy, bool connect_only) {
    if (!connect_only && loop->spare_count < SPARE_HANDLES) {
        curl_easy_reset(easy);
        loop->spare[loop->spare_count++] = easy;
    } else {
        curl_easy_cleanup(easy);
    }
}

static void start(rest_loop *loop, rest_call *call) {
    if (atomic_load(&call->cancel_requested)) {
        rest_call_fail(call, REST_CANCELLED, "cancelled before it started");
        return;
    }
    CURL *easy = take_handle(loop);
    if (!easy || !rest_call_configure(call, easy) || curl_multi_add_handle(loop->multi, easy) != CURLM_OK) {
        if (easy) return_handle(loop, easy, true);
        rest_call_fail(call, REST_NOT_SENT, call->error[0] ? call->error : "libcurl could not set up the request");
        return;
    }
    call->easy = easy;
    rest_call_retain(call); /* the multi's reference, dropped when the transfer ends */
}

/* Removing a transfer from the multi closes its HTTP/1.1 connection or resets its HTTP/2 stream. */
static void end_transfer(rest_loop *loop, rest_call *call, CURLcode code, bool cancelled) {
    CURL *easy = call->easy;
    call->easy = NULL;
    curl_multi_remove_handle(loop->multi, easy);
    if (cancelled) {
        rest_call_fail(call, REST_CANCELLED, "cancelled");
    } else {
        rest_call_finish(call, easy, code);
    }
    return_handle(loop, easy, call->request.connect_only);
    rest_call_release(call);
}

static void run_command(rest_loop *loop, rest_command *cmd) {
    rest_call *call = call_of(cmd);
    if (cmd->kind == REST_CMD_START) {
        start(loop, call);
    } else if (call->easy) {
        end_transfer(loop, call, CURLE_OK, true);
    }
    rest_call_release(call); /* the command's reference */
}

static rest_command *take_commands(rest_loop *loop) {
    pthread_mutex_lock(&loop->lock);
    rest_command *cmd = loop->head;
    loop->head = loop->tail = NULL;
    pthread_mutex_unlock(&loop->lock);
    return cmd;
}

static void complete_finished(rest_loop *loop) {
    int left;
    CURLMsg *msg;
    while ((msg = curl_multi_info_read(loop->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        rest_call *call = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
        CURLcode code = msg->data.result; /* read before removal invalidates msg */
        end_transfer(loop, call, code, false);
    }
}

static void *loop_main(void *arg) {
    rest_loop *loop = arg;
    for (;;) {
        rest_command *cmd = take_commands(loop);
        while (cmd) {
            rest_command *next = cmd->next;
            run_command(loop, cmd);
            cmd = next;
        }
        int running = 0;
        curl_multi_perform(loop->multi, &running);
        complete_finished(loop);
        curl_multi_poll(loop->multi, NULL, 0, 1000, NULL);
    }
    return NULL;
}

static void make_shared_loop(void) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("restshim: curl_global_init failed\n", stderr);
        abort();
    }
    rest_loop *loop = calloc(1, sizeof *loop);
    if (!loop || !(loop->multi = curl_multi_init())) {
        fputs("restshim: cannot create the REST loop\n", stderr);
        abort();
    }
    pthread_mutex_init(&loop->lock, NULL);
    /* Idle keep-alive connections kept for reuse; the pool above bounds how many are busy. */
    curl_multi_setopt(loop->multi, CURLMOPT_MAXCONNECTS, 1024L);
    curl_multi_setopt(loop->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);

    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attr, loop_main, loop) != 0) {
        perror("restshim: cannot start the REST loop thread");
        abort();
    }
    pthread_attr_destroy(&attr);
    shared_loop = loop;
}

void rest_loop_enqueue(rest_command *cmd) {
    pthread_once(&shared_loop_once, make_shared_loop);
    rest_loop *loop = shared_loop;
    cmd->next = NULL;
    pthread_mutex_lock(&loop->lock);
    if (loop->tail) {
        loop->tail->next = cmd;
    } else {
        loop->head = cmd;
    }
    loop->tail = cmd;
    pthread_mutex_unlock(&loop->lock);
    curl_multi_wakeup(loop->multi);
}
