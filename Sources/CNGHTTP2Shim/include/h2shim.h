/*
 * h2shim: an event-loop thread that owns sockets and nghttp2 client sessions.
 *
 * Everything that touches a socket or an nghttp2_session runs on the loop thread. Other threads
 * talk to it through commands (connect, submit, cancel, shut down) that are queued under a mutex;
 * the loop is woken by an eventfd only when it is asleep in epoll_wait. After draining the queue
 * the loop serialises every pending frame of a connection into one buffer and writes it once, so
 * all streams submitted since the last wake-up leave together.
 *
 * Results come back as callbacks on the loop thread: exactly one completion per submitted call,
 * and connection events (ready, goaway, closed) per connection. Callbacks must be quick and must
 * not block; they may call any function of this header.
 */
#ifndef H2SHIM_H
#define H2SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct h2shim_loop h2shim_loop;
typedef struct h2shim_conn h2shim_conn;
typedef struct h2shim_call h2shim_call;
typedef struct h2shim_tls h2shim_tls;

/* One header field; the bytes are not NUL-terminated. */
typedef struct h2shim_header {
    const uint8_t *name;
    size_t name_len;
    const uint8_t *value;
    size_t value_len;
} h2shim_header;

/* How a call ended, from the transport's point of view. */
typedef enum h2shim_outcome {
    /* The peer ended the stream (END_STREAM received); reset_code is 0. A reset that arrives
       after END_STREAM (a server finishing before reading our END_STREAM) is still COMPLETE. */
    H2SHIM_COMPLETE = 0,
    /* The peer reset the stream before ending it; reset_code holds the HTTP/2 error code.
       REFUSED_STREAM (also for streams above a GOAWAY's last-stream-id) means "not processed". */
    H2SHIM_RESET = 1,
    /* The request never left this process (connect failed, connection closed or draining before
       the stream was opened), or the connection failed before the server's SETTINGS arrived (the
       server never accepted the HTTP/2 connection): always safe to retry elsewhere. */
    H2SHIM_NOT_SENT = 2,
    /* The connection failed while the stream was open: the server may have processed it. */
    H2SHIM_CONNECTION_LOST = 3,
    /* The call's deadline passed; the stream was reset with CANCEL. */
    H2SHIM_DEADLINE_EXCEEDED = 4,
    /* h2shim_call_cancel was called; the stream was reset with CANCEL. */
    H2SHIM_CANCELLED = 5,
    /* The response body exceeded max_response_bytes, or the gRPC message prefix it starts with
       announced a message that cannot fit (unless plain_bodies); the stream was reset with CANCEL. */
    H2SHIM_RESPONSE_TOO_LARGE = 6,
    /* The response header block exceeded the header list limit; the stream was reset. */
    H2SHIM_HEADERS_TOO_LARGE = 7,
} h2shim_outcome;

/* Everything known about a finished call. Pointers are valid only during the completion callback. */
typedef struct h2shim_result {
    h2shim_outcome outcome;
    uint32_t reset_code;
    const h2shim_header *headers;   /* first HEADERS block (for Trailers-Only, the only block) */
    size_t header_count;
    const h2shim_header *trailers;  /* trailing HEADERS block, if any */
    size_t trailer_count;
    const uint8_t *body;            /* all DATA bytes, concatenated */
    size_t body_len;
    const char *detail;             /* human-readable reason for NOT_SENT / CONNECTION_LOST, or NULL */
} h2shim_result;

typedef void (*h2shim_completion_fn)(void *context, const h2shim_result *result);

typedef enum h2shim_conn_event {
    /* The server's first SETTINGS arrived: the connection is usable. value = its
       MAX_CONCURRENT_STREAMS (UINT32_MAX when unlimited). */
    H2SHIM_EVENT_READY = 0,
    /* A GOAWAY arrived: value = last-stream-id, detail = error code name and debug data. No new
       streams are opened on this connection; it closes when its last stream ends. */
    H2SHIM_EVENT_GOAWAY = 1,
    /* The connection is gone (after a failure, a GOAWAY drain, or a shutdown): detail says why,
       value is 1 for an orderly close and 0 for a failure. This is the last event. */
    H2SHIM_EVENT_CLOSED = 2,
    /* A keepalive PING went unanswered within its timeout; CLOSED follows. */
    H2SHIM_EVENT_KEEPALIVE_TIMEOUT = 3,
    /* A later SETTINGS frame arrived: value = the server's MAX_CONCURRENT_STREAMS now. */
    H2SHIM_EVENT_SETTINGS = 4,
    /* With offer_http1, the TLS server chose HTTP/1.1 by ALPN: the connection fails (CLOSED
       follows) and the caller may speak HTTP/1.1 to it by other means. */
    H2SHIM_EVENT_HTTP1_SELECTED = 5,
} h2shim_conn_event;

typedef void (*h2shim_conn_event_fn)(void *context, h2shim_conn_event event, uint64_t value,
                                     const char *detail);

/* Settings of one connection. Zero values take the defaults given in brackets. */
typedef struct h2shim_conn_options {
    const char *host;                 /* name or numeric address; for unix sockets the path */
    uint16_t port;
    int is_unix;                      /* 1: host is a filesystem path of a unix socket */
    uint64_t connect_timeout_ns;      /* [20 s] */
    uint32_t initial_window_size;     /* per-stream receive window [4 MiB] */
    uint32_t connection_window_size;  /* connection receive window [16 MiB] */
    uint32_t max_header_list_size;    /* announced and enforced on responses [16 KiB] */
    uint64_t keepalive_interval_ns;   /* 0: no keepalive PINGs */
    uint64_t keepalive_timeout_ns;    /* [20 s] */
    h2shim_tls *tls;                  /* NULL: cleartext HTTP/2; else TLS with ALPN h2 */
    const char *server_name;          /* TLS: the name sent as SNI and checked in the certificate [host] */
    int offer_http1;                  /* TLS: ALPN offers "h2, http/1.1" (see H2SHIM_EVENT_HTTP1_SELECTED) */
    int plain_bodies;                 /* 1: response bodies are not gRPC messages (no prefix check) */
} h2shim_conn_options;

/* Counters of one connection, read from any thread (relaxed snapshot). */
typedef struct h2shim_conn_stats {
    uint64_t streams_started;
    uint64_t streams_open;
    uint64_t max_streams_open;        /* the most streams ever open at once */
    uint64_t writes;                  /* write(2) calls that sent bytes */
    uint64_t bytes_written;
    uint64_t bytes_read;
    uint32_t peer_max_concurrent_streams;
    uint32_t tls_session_resumed;     /* 1: the TLS handshake resumed an earlier session */
} h2shim_conn_stats;

/* A TLS client configuration: TLS 1.2 or later, certificates verified against `ca_file` (PEM) or
   the system trust store when it is NULL, an optional client certificate and key (PEM) for
   mutual TLS. The files are read once, here. Returns NULL and a message in `error` when a file is
   missing, unreadable or the key does not match the certificate. Connections hold a reference;
   the caller releases its own with h2shim_tls_release. */
h2shim_tls *h2shim_tls_create(const char *ca_file, const char *cert_file, const char *key_file, char *error,
                              size_t error_len);

void h2shim_tls_release(h2shim_tls *tls);

/* The process-wide loop, started on first use and never stopped (like a thread pool). */
h2shim_loop *h2shim_loop_shared(void);

/* Work from the host language that runs on the loop thread (a Swift task executor): `runner` is
   called on the loop, between its turns' I/O, once after every h2shim_loop_signal_jobs. Set once,
   before the first signal. */
typedef void (*h2shim_job_runner_fn)(void *context);
void h2shim_loop_set_job_runner(h2shim_loop *loop, h2shim_job_runner_fn runner, void *context);

/* Asks the loop to call its job runner soon; wakes it when it sleeps in epoll. Any thread. */
void h2shim_loop_signal_jobs(h2shim_loop *loop);

/* Whether the calling thread is the loop's. */
bool h2shim_loop_is_current(h2shim_loop *loop);

/* Starts connecting. The returned handle holds one reference for the caller, released with
   h2shim_conn_release. `context` is passed to `on_event` until the CLOSED event, which is the
   last callback. Returns NULL only when memory is exhausted. */
h2shim_conn *h2shim_conn_create(h2shim_loop *loop, const h2shim_conn_options *options,
                                h2shim_conn_event_fn on_event, void *context);

/* Stops opening streams; closes the connection once its open streams have ended. */
void h2shim_conn_shutdown(h2shim_conn *conn);

/* Fails every call on the connection (CONNECTION_LOST, or NOT_SENT if never sent) and closes it. */
void h2shim_conn_close(h2shim_conn *conn);

void h2shim_conn_release(h2shim_conn *conn);

void h2shim_conn_get_stats(h2shim_conn *conn, h2shim_conn_stats *out);

/* Queues a request on `conn`. `header_block` holds `header_count` fields, each encoded as
   4-byte little-endian name length, 4-byte little-endian value length, name bytes, value bytes
   (pseudo-headers first). `body` is sent as the request's DATA, END_STREAM on its last frame.
   Both are copied. `timeout_ns` 0 means no local deadline. The response body is limited to
   `max_response_bytes`. Returns a handle with one reference for the caller (release it with
   h2shim_call_release once the completion has run or is no longer awaited), or NULL when
   memory is exhausted (then `on_complete` is never called). */
h2shim_call *h2shim_submit(h2shim_conn *conn, const uint8_t *header_block, size_t header_block_len,
                           size_t header_count, const uint8_t *body, size_t body_len,
                           uint64_t timeout_ns, uint64_t max_response_bytes,
                           h2shim_completion_fn on_complete, void *context);

/* Resets the call's stream with CANCEL and completes it as CANCELLED, unless it already ended. */
void h2shim_call_cancel(h2shim_call *call);

void h2shim_call_release(h2shim_call *call);

#ifdef __cplusplus
}
#endif

#endif
