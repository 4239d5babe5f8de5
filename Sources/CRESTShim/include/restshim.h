/* The REST transport's event loop: libcurl's multi interface on a thread of its own, one loop
 * per client.
 *
 * A request is handed over from any thread (rest_call_start) and completes once, on the loop
 * thread, through its completion function. Connections (HTTP/1.1 keep-alive, cleartext or TLS;
 * HTTP/2 runs on the client's own HTTP/2 transport) live in the loop's connection cache and are reused by later requests to the same origin with the
 * same TLS settings; closing the loop closes them. See docs/architecture.md, "The REST transport",
 * for why libcurl.
 */
#ifndef RESTSHIM_H
#define RESTSHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rest_loop rest_loop;
typedef struct rest_call rest_call;

/* How a request ended. */
typedef enum rest_outcome {
    REST_COMPLETE,            /* a response arrived, with any status */
    REST_NOT_SENT,            /* no connection could be made (resolve, connect, TLS): nothing was sent */
    REST_CONNECTION_LOST,     /* the connection failed after the request may have been sent */
    REST_DEADLINE_EXCEEDED,   /* the timeout passed; the connection or stream was closed */
    REST_CANCELLED,           /* rest_call_cancel; the connection or stream was closed */
    REST_RESPONSE_TOO_LARGE,  /* the (decoded) body passed max_response_bytes; the transfer was cut off */
} rest_outcome;

/* The result handed to the completion; valid only during the completion call. */
typedef struct rest_result {
    rest_outcome outcome;
    long status;                /* the HTTP status; 0 without a response */
    const char *detail;         /* why it failed (libcurl's message), "" when complete */
    const uint8_t *body;
    size_t body_len;
    const char *retry_after;    /* NULL when absent, and for a 2xx status */
    const char *location;       /* NULL when absent, and for a 2xx status */
} rest_result;

typedef void (*rest_completion_fn)(void *context, const rest_result *result);

typedef struct rest_target rest_target;

/* What every request to one endpoint shares, set up once per pool connection: where requests go
 * (`base_url`, "http(s)://host:port", to which each request's path is appended), the user agent,
 * the TLS files (`ca_file` NULL: the system trust store; `cert_file`/`key_file`: mutual TLS), how
 * it is dialled (`connect_to`, "HOST:PORT:ADDRESS:PORT": the URL's host is checked in the
 * certificate, ADDRESS is dialled; `unix_socket`: this socket path instead), and the fixed request
 * headers built from them. Strings are copied; NULL means "not set". NULL if memory ran out. The
 * creator holds one reference; each request holds one. */
rest_target *rest_target_create(const char *base_url, const char *user_agent, const char *ca_file,
                                const char *cert_file, const char *key_file, const char *connect_to,
                                const char *unix_socket);
/* Drops a reference. */
void rest_target_release(rest_target *target);

/* One request to a target. Everything is copied. */
typedef struct rest_request {
    const char *path;           /* appended to the target's base URL */
    bool post;                  /* POST with `body` (JSON), else GET */
    const char *metadata;       /* the call's own header lines: "name: value", each ended by a NUL; NULL: none */
    size_t metadata_len;        /* bytes of `metadata`, NULs included */
    const uint8_t *body;
    size_t body_len;
    uint64_t timeout_ms;        /* the whole exchange, connecting included; 0: none */
    uint64_t max_response_bytes;
    bool connect_only;          /* connect (TCP and TLS) and complete without sending a request */
    bool fresh_connection;      /* on a new connection, closed after it: over a reused one whose peer
                                 * closed it before any answer byte, libcurl sends the request again */
} rest_request;

/* NULL once libcurl is loaded and initialised (at the first call, any thread), else why not. */
const char *rest_transport_load_error(void);

/* Seconds since the epoch of an HTTP date (RFC 9110), by libcurl; -1 if it is not one. */
int64_t rest_parse_http_date(const char *text);

/* A new loop and its thread; NULL if that failed (see rest_transport_load_error). The creator
 * holds one reference. */
rest_loop *rest_loop_create(void);
/* Ends the loop: requests still running end as REST_CANCELLED, later ones as REST_NOT_SENT, every
 * connection closes and the thread exits. The loop stays valid until its last reference goes. */
void rest_loop_close(rest_loop *loop);
/* Drops a reference (the creator's, after rest_loop_close). */
void rest_loop_release(rest_loop *loop);

/* Work from the host language that runs on the loop thread (a Swift task executor): `runner` is
 * called on the loop between its turns' I/O, once after every rest_loop_signal_jobs, and a last
 * time with `last` set when the loop ends (after its requests completed as cancelled); signals
 * after that are ignored. Set once, before the first signal. */
typedef void (*rest_job_runner_fn)(void *context, bool last);
void rest_loop_set_job_runner(rest_loop *loop, rest_job_runner_fn runner, void *context);
/* Asks the loop to call its job runner soon; wakes it when it sleeps. Any thread. */
void rest_loop_signal_jobs(rest_loop *loop);
/* Whether the calling thread is the loop's. */
bool rest_loop_is_current(rest_loop *loop);

/* Starts `request` to `target` on `loop`; NULL if memory ran out. The caller holds one reference
 * until rest_call_release. */
rest_call *rest_call_start(rest_loop *loop, rest_target *target, const rest_request *request,
                           rest_completion_fn on_complete, void *context);
/* Ends the request with REST_CANCELLED (unless it completed already). Any thread. */
void rest_call_cancel(rest_call *call);
/* Drops the caller's reference. */
void rest_call_release(rest_call *call);

#endif
