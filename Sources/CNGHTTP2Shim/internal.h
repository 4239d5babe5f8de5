/* Internal structures of the shim: shared by the loop, connection, session and call files. */
#ifndef H2SHIM_INTERNAL_H
#define H2SHIM_INTERNAL_H

#include "h2shim.h"

#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define H2SHIM_DEFAULT_CONNECT_TIMEOUT_NS (20ull * 1000000000ull)
#define H2SHIM_DEFAULT_KEEPALIVE_TIMEOUT_NS (20ull * 1000000000ull)
#define H2SHIM_DEFAULT_STREAM_WINDOW (4u * 1024u * 1024u)
#define H2SHIM_DEFAULT_CONNECTION_WINDOW (16u * 1024u * 1024u)
#define H2SHIM_DEFAULT_MAX_HEADER_LIST (16u * 1024u)

/* ---- growable byte buffer ---- */

typedef struct byte_buffer {
    uint8_t *data;
    size_t len;
    size_t cap;
} byte_buffer;

bool byte_buffer_append(byte_buffer *buffer, const uint8_t *bytes, size_t len);
void byte_buffer_consume(byte_buffer *buffer, size_t len);
void byte_buffer_free(byte_buffer *buffer);

/* ---- timers: a min-heap keyed by due time, owned by the loop ---- */

typedef enum timer_kind { TIMER_CALL_DEADLINE, TIMER_CONNECT, TIMER_KEEPALIVE } timer_kind;

typedef struct timer {
    uint64_t due_ns;
    size_t heap_index; /* SIZE_MAX when not scheduled */
    timer_kind kind;
} timer;

typedef struct timer_heap {
    timer **items;
    size_t count;
    size_t cap;
} timer_heap;

bool timer_heap_push(timer_heap *heap, timer *t);
void timer_heap_remove(timer_heap *heap, timer *t);
timer *timer_heap_peek(const timer_heap *heap);
void timer_heap_free(timer_heap *heap);

uint64_t monotonic_now_ns(void);

/* ---- commands: intrusive nodes queued from any thread to the loop ---- */

typedef enum command_kind {
    CMD_CONNECT,
    CMD_RESOLVED,
    CMD_SUBMIT,
    CMD_CANCEL,
    CMD_SHUTDOWN,
    CMD_CLOSE,
} command_kind;

typedef struct command {
    command_kind kind;
    struct command *next;
} command;

/* ---- a call: one request/response exchange on one stream ---- */

typedef struct header_record {
    uint32_t name_offset, name_len, value_offset, value_len;
} header_record;

struct h2shim_call {
    atomic_int refs;
    atomic_bool cancel_requested;
    command submit_cmd;
    command cancel_cmd;
    timer deadline;

    h2shim_conn *conn;
    h2shim_completion_fn on_complete;
    void *context;

    /* Request, in one allocation with this struct. */
    nghttp2_nv *nva;
    size_t nv_count;
    const uint8_t *body;
    size_t body_len;
    size_t body_sent;

    /* Linkage in the connection's list of calls that it must complete. */
    struct h2shim_call *prev, *next;
    int32_t stream_id;      /* 0 until submitted to nghttp2 */
    bool holds_stream_ref;  /* nghttp2 still refers to this call */
    bool linked;            /* in conn->calls */
    bool completed;
    bool request_sent;      /* its HEADERS left nghttp2: the server may have seen it */
    bool end_stream_received;
    bool headers_done;
    uint64_t max_response_bytes;

    /* Response */
    byte_buffer header_bytes;
    byte_buffer header_records; /* header_record[], headers then trailers */
    size_t initial_header_count;
    size_t header_list_bytes;
    byte_buffer response_body;
};

void call_retain(h2shim_call *call);
void call_complete(h2shim_call *call, h2shim_outcome outcome, uint32_t reset_code, const char *detail);

/* ---- a connection ---- */

typedef enum conn_state {
    CONN_RESOLVING,
    CONN_CONNECTING,
    CONN_TLS_HANDSHAKE, /* socket connected, TLS handshake under way */
    CONN_OPEN,      /* socket connected, session running */
    CONN_DRAINING,  /* GOAWAY received or shutdown requested: no new streams */
    CONN_CLOSED,
} conn_state;

struct h2shim_conn {
    atomic_int refs;
    h2shim_loop *loop;
    h2shim_conn_options options;
    char *host; /* owned copy of options.host */
    char *peer_label; /* "host:port" for messages */
    char *server_name; /* owned copy of options.server_name, or NULL */
    SSL *ssl;          /* TLS over memory BIOs; NULL for cleartext */
    byte_buffer plain; /* TLS: frames serialised by nghttp2, waiting for SSL_write */
    h2shim_conn_event_fn on_event;
    void *context;

    command connect_cmd, resolved_cmd, shutdown_cmd, close_cmd;
    atomic_bool shutdown_queued, close_queued;

    /* Loop-thread state below. */
    conn_state state;
    struct h2shim_conn *prev, *next; /* the loop's list */
    struct addrinfo *addresses;
    struct addrinfo *next_address;
    int resolve_error;
    char last_error[160];
    char close_reason[200]; /* why the connection closed, for calls that arrive afterwards */
    char goaway_detail[160]; /* the last GOAWAY received, empty if none */
    int fd;
    bool want_epollout;
    bool ready_reported;
    bool preface_invalid; /* the server's first frame was not SETTINGS */
    bool shutdown_requested;
    nghttp2_session *session;
    byte_buffer outbuf;
    timer connect_timer;
    timer keepalive_timer;
    uint64_t last_read_ns;
    bool ping_outstanding;
    uint64_t ping_sent_ns;
    bool addresses_are_unix; /* conn->addresses was built by hand, not by getaddrinfo */
    h2shim_call *calls; /* every call not yet completed or still referenced by nghttp2 */

    /* Statistics, written by the loop, read anywhere. */
    atomic_uint_fast64_t streams_started, streams_open, max_streams_open, writes, bytes_written,
        bytes_read;
    atomic_uint peer_max_concurrent_streams;
    atomic_bool tls_resumed;
};

void conn_retain(h2shim_conn *conn);
void conn_start_connect(h2shim_conn *conn);
void conn_finish_resolve(h2shim_conn *conn);
void conn_submit_call(h2shim_conn *conn, h2shim_call *call);
void conn_cancel_call(h2shim_call *call, h2shim_outcome outcome);
void conn_begin_shutdown(h2shim_conn *conn);
void conn_end(h2shim_conn *conn, const char *reason, bool orderly);
/* The PING ACK arrived: the next PING is due one keepalive interval after the last byte read. */
void conn_ping_acknowledged(h2shim_conn *conn);
void conn_handle_io(h2shim_conn *conn, uint32_t epoll_events);
void conn_flush(h2shim_conn *conn);
void conn_on_timer(h2shim_conn *conn, timer *t);
void conn_link_call(h2shim_conn *conn, h2shim_call *call);
void conn_unlink_call(h2shim_conn *conn, h2shim_call *call);

nghttp2_session_callbacks *session_callbacks_shared(void);
nghttp2_data_provider session_body_provider(h2shim_call *call);

/* ---- TLS over memory BIOs: the socket I/O stays in connection.c ---- */

/* A hint for the operator when a TLS server turns the client away (client certificate required or
   rejected); "" when there is nothing to add. Reads the pending OpenSSL error without taking it. */
const char *tls_rejection_hint(h2shim_conn *conn);
void tls_retain(h2shim_tls *tls);
bool tls_start(h2shim_conn *conn);
int tls_handshake(h2shim_conn *conn); /* 1 done, 0 in progress, -1 failed (conn->last_error set) */
bool tls_feed(h2shim_conn *conn, const uint8_t *data, size_t len);
ssize_t tls_read(h2shim_conn *conn, uint8_t *buf, size_t cap); /* >0 bytes, 0 none yet, -1 closed/failed */
bool tls_write(h2shim_conn *conn, const uint8_t *data, size_t len);
void tls_close(h2shim_conn *conn);

/* ---- the loop ---- */

struct h2shim_loop {
    pthread_t thread;
    int epoll_fd;
    int wake_fd;
    pthread_mutex_t queue_lock;
    command *queue_head, *queue_tail;
    atomic_bool polling; /* set while the loop may be blocked in epoll_wait */
    atomic_bool jobs_signalled;
    h2shim_job_runner_fn job_runner;
    void *job_runner_context;

    /* Loop-thread state. */
    timer_heap timers;
    h2shim_conn *conns;
    bool completed_in_turn; /* a call completed in this loop turn */
};

void loop_enqueue(h2shim_loop *loop, command *cmd);
bool loop_schedule(h2shim_loop *loop, timer *t, uint64_t due_ns);
void loop_unschedule(h2shim_loop *loop, timer *t);
int loop_watch(h2shim_loop *loop, h2shim_conn *conn, int fd, bool want_write);
void loop_unwatch(h2shim_loop *loop, int fd);
void loop_add_conn(h2shim_loop *loop, h2shim_conn *conn);
void loop_remove_conn(h2shim_loop *loop, h2shim_conn *conn);

#define CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#endif
