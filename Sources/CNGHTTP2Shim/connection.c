/* One HTTP/2 client connection: resolve, connect, run the nghttp2 session, drain and close.
 * Every function except the public h2shim_conn_* ones runs on the loop thread. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)
#define READS_PER_EVENT 16
#define SEND_BATCH_LIMIT (1024 * 1024)

/* ---- public API (any thread) ---- */

h2shim_conn *h2shim_conn_create(h2shim_loop *loop, const h2shim_conn_options *options,
                                h2shim_conn_event_fn on_event, void *context) {
    h2shim_conn *conn = calloc(1, sizeof *conn);
    if (!conn) return NULL;
    conn->options = *options;
    conn->host = strdup(options->host ? options->host : "");
    size_t label_len = strlen(conn->host) + 16;
    conn->peer_label = malloc(label_len);
    if (!conn->host || !conn->peer_label) {
        free(conn->host);
        free(conn->peer_label);
        free(conn);
        return NULL;
    }
    conn->options.host = conn->host;
    if (options->server_name) {
        conn->server_name = strdup(options->server_name);
        conn->options.server_name = conn->server_name;
    }
    if (options->tls) tls_retain(options->tls);
    if (options->is_unix) snprintf(conn->peer_label, label_len, "unix:%s", conn->host);
    else if (strchr(conn->host, ':')) snprintf(conn->peer_label, label_len, "[%s]:%u", conn->host, options->port);
    else snprintf(conn->peer_label, label_len, "%s:%u", conn->host, options->port);

    h2shim_conn_options *o = &conn->options;
    if (!o->connect_timeout_ns) o->connect_timeout_ns = H2SHIM_DEFAULT_CONNECT_TIMEOUT_NS;
    if (!o->initial_window_size) o->initial_window_size = H2SHIM_DEFAULT_STREAM_WINDOW;
    if (!o->connection_window_size) o->connection_window_size = H2SHIM_DEFAULT_CONNECTION_WINDOW;
    if (!o->max_header_list_size) o->max_header_list_size = H2SHIM_DEFAULT_MAX_HEADER_LIST;
    if (!o->keepalive_timeout_ns) o->keepalive_timeout_ns = H2SHIM_DEFAULT_KEEPALIVE_TIMEOUT_NS;

    conn->loop = loop;
    conn->on_event = on_event;
    conn->context = context;
    conn->fd = -1;
    conn->state = CONN_RESOLVING;
    conn->connect_timer = (timer){.kind = TIMER_CONNECT, .heap_index = SIZE_MAX};
    conn->keepalive_timer = (timer){.kind = TIMER_KEEPALIVE, .heap_index = SIZE_MAX};
    conn->connect_cmd.kind = CMD_CONNECT;
    conn->resolved_cmd.kind = CMD_RESOLVED;
    conn->shutdown_cmd.kind = CMD_SHUTDOWN;
    conn->close_cmd.kind = CMD_CLOSE;
    atomic_init(&conn->refs, 2); /* the caller's, and the loop's until CLOSED */
    loop_enqueue(loop, &conn->connect_cmd);
    return conn;
}

void conn_retain(h2shim_conn *conn) {
    atomic_fetch_add_explicit(&conn->refs, 1, memory_order_relaxed);
}

void h2shim_conn_release(h2shim_conn *conn) {
    if (atomic_fetch_sub_explicit(&conn->refs, 1, memory_order_acq_rel) != 1) return;
    if (conn->addresses_are_unix) free(conn->addresses);
    else if (conn->addresses) freeaddrinfo(conn->addresses);
    byte_buffer_free(&conn->outbuf);
    byte_buffer_free(&conn->plain);
    h2shim_tls_release(conn->options.tls);
    free(conn->server_name);
    free(conn->host);
    free(conn->peer_label);
    free(conn);
}

void h2shim_conn_shutdown(h2shim_conn *conn) {
    bool expected = false;
    if (!atomic_compare_exchange_strong(&conn->shutdown_queued, &expected, true)) return;
    conn_retain(conn);
    loop_enqueue(conn->loop, &conn->shutdown_cmd);
}

void h2shim_conn_close(h2shim_conn *conn) {
    bool expected = false;
    if (!atomic_compare_exchange_strong(&conn->close_queued, &expected, true)) return;
    conn_retain(conn);
    loop_enqueue(conn->loop, &conn->close_cmd);
}

void h2shim_conn_get_stats(h2shim_conn *conn, h2shim_conn_stats *out) {
    out->streams_started = atomic_load_explicit(&conn->streams_started, memory_order_relaxed);
    out->streams_open = atomic_load_explicit(&conn->streams_open, memory_order_relaxed);
    out->max_streams_open = atomic_load_explicit(&conn->max_streams_open, memory_order_relaxed);
    out->writes = atomic_load_explicit(&conn->writes, memory_order_relaxed);
    out->bytes_written = atomic_load_explicit(&conn->bytes_written, memory_order_relaxed);
    out->bytes_read = atomic_load_explicit(&conn->bytes_read, memory_order_relaxed);
    out->peer_max_concurrent_streams =
        atomic_load_explicit(&conn->peer_max_concurrent_streams, memory_order_relaxed);
    out->tls_session_resumed = atomic_load_explicit(&conn->tls_resumed, memory_order_relaxed);
}

/* ---- the list of calls a connection must complete ---- */

void conn_link_call(h2shim_conn *conn, h2shim_call *call) {
    if (call->linked) return;
    call->linked = true;
    call->prev = NULL;
    call->next = conn->calls;
    if (conn->calls) conn->calls->prev = call;
    conn->calls = call;
}

void conn_unlink_call(h2shim_conn *conn, h2shim_call *call) {
    if (!call->linked) return;
    call->linked = false;
    if (call->prev) call->prev->next = call->next;
    else conn->calls = call->next;
    if (call->next) call->next->prev = call->prev;
    call->prev = call->next = NULL;
}

/* ---- closing ---- */

static void set_error(h2shim_conn *conn, const char *what, int err) {
    bool goaway = conn->goaway_detail[0] != '\0';
    snprintf(conn->last_error, sizeof conn->last_error, "%s %s failed: %s%s%.100s%s", what, conn->peer_label,
             strerror(err), goaway ? " after GOAWAY (" : "", conn->goaway_detail, goaway ? ")" : "");
}

static void close_socket(h2shim_conn *conn) {
    tls_close(conn);
    if (conn->fd < 0) return;
    loop_unwatch(conn->loop, conn->fd);
    close(conn->fd);
    conn->fd = -1;
    conn->want_epollout = false;
}

/* Ends the connection: every call still on it completes (NOT_SENT if its request never left,
   CONNECTION_LOST otherwise), then CLOSED is reported and the loop drops its reference. */
void conn_end(h2shim_conn *conn, const char *reason, bool orderly) {
    if (conn->state == CONN_CLOSED) return;
    conn->state = CONN_CLOSED;
    loop_unschedule(conn->loop, &conn->connect_timer);
    loop_unschedule(conn->loop, &conn->keepalive_timer);
    close_socket(conn);

    snprintf(conn->close_reason, sizeof conn->close_reason, "%s", reason);
    const char *detail = conn->close_reason;
    while (conn->calls) {
        h2shim_call *call = conn->calls;
        conn_unlink_call(conn, call);
        call_retain(call);
        if (!call->completed) {
            /* Before the server's SETTINGS (its connection preface) arrived, the server had not
               accepted the HTTP/2 connection: a request already written cannot have been processed. */
            h2shim_outcome outcome = call->stream_id > 0 && call->request_sent && conn->ready_reported
                                         ? H2SHIM_CONNECTION_LOST
                                         : H2SHIM_NOT_SENT;
            call_complete(call, outcome, 0, detail);
        }
        if (call->holds_stream_ref) {
            call->holds_stream_ref = false;
            if (conn->session) nghttp2_session_set_stream_user_data(conn->session, call->stream_id, NULL);
            if (call->request_sent) atomic_fetch_sub_explicit(&conn->streams_open, 1, memory_order_relaxed);
            h2shim_call_release(call);
        }
        h2shim_call_release(call);
    }
    if (conn->session) {
        nghttp2_session_del(conn->session);
        conn->session = NULL;
    }
    loop_remove_conn(conn->loop, conn);
    conn->on_event(conn->context, H2SHIM_EVENT_CLOSED, orderly ? 1 : 0, detail);
    h2shim_conn_release(conn);
}

/* ---- connecting ---- */

static void open_stream(h2shim_conn *conn, h2shim_call *call);

static int open_session(h2shim_conn *conn) {
    nghttp2_option *option;
    if (nghttp2_option_new(&option) != 0) return -1;
    nghttp2_option_set_no_auto_window_update(option, 0);
    int rv = nghttp2_session_client_new2(&conn->session, session_callbacks_shared(), conn, option);
    nghttp2_option_del(option);
    if (rv != 0) return -1;
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, conn->options.initial_window_size},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, conn->options.max_header_list_size},
    };
    if (nghttp2_submit_settings(conn->session, NGHTTP2_FLAG_NONE, settings, 3) != 0) return -1;
    if (conn->options.connection_window_size > 65535 &&
        nghttp2_session_set_local_window_size(conn->session, NGHTTP2_FLAG_NONE, 0,
                                              (int32_t)conn->options.connection_window_size) != 0)
        return -1;
    return 0;
}

static void schedule_keepalive(h2shim_conn *conn, uint64_t due) {
    if (conn->options.keepalive_interval_ns) loop_schedule(conn->loop, &conn->keepalive_timer, due);
}

void conn_ping_acknowledged(h2shim_conn *conn) {
    conn->ping_outstanding = false;
    /* A frame processed after the connection ended (same read) must not re-arm its timer. */
    if (conn->state == CONN_OPEN || conn->state == CONN_DRAINING)
        schedule_keepalive(conn, conn->last_read_ns + conn->options.keepalive_interval_ns);
}

/* The byte stream is ready for HTTP/2 (after TCP connect, or after the TLS handshake). */
static void start_session(h2shim_conn *conn) {
    if (open_session(conn) != 0) {
        conn_end(conn, "cannot create an HTTP/2 session (out of memory)", false);
        return;
    }
    conn->state = conn->shutdown_requested ? CONN_DRAINING : CONN_OPEN;
    conn->last_read_ns = monotonic_now_ns();
    loop_watch(conn->loop, conn, conn->fd, false);
    schedule_keepalive(conn, conn->last_read_ns + conn->options.keepalive_interval_ns);
    /* Calls queued while connecting open their streams now, oldest first. */
    h2shim_call *tail = conn->calls;
    while (tail && tail->next) tail = tail->next;
    for (h2shim_call *call = tail; call;) {
        h2shim_call *prev = call->prev;
        if (!call->completed && call->stream_id == 0) open_stream(conn, call);
        call = prev;
    }
}

static void on_connected(h2shim_conn *conn) {
    int one = 1;
    if (!conn->options.is_unix) setsockopt(conn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (!conn->options.tls) {
        start_session(conn);
        return;
    }
    conn->state = CONN_TLS_HANDSHAKE;
    loop_watch(conn->loop, conn, conn->fd, false);
    if (!tls_start(conn) || tls_handshake(conn) < 0) conn_end(conn, conn->last_error, false);
}

static void connect_next_address(h2shim_conn *conn) {
    while (conn->next_address) {
        struct addrinfo *ai = conn->next_address;
        conn->next_address = ai->ai_next;
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            set_error(conn, "socket for", errno);
            continue;
        }
        conn->fd = fd;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            on_connected(conn);
            return;
        }
        if (errno == EINPROGRESS) {
            conn->state = CONN_CONNECTING;
            loop_watch(conn->loop, conn, fd, true);
            conn->want_epollout = true;
            return;
        }
        set_error(conn, "connect to", errno);
        close_socket(conn);
    }
    conn_end(conn, conn->last_error[0] ? conn->last_error : "no address to connect to", false);
}

static void *resolve_thread(void *arg) {
    h2shim_conn *conn = arg;
    char port[8];
    snprintf(port, sizeof port, "%u", conn->options.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
    conn->resolve_error = getaddrinfo(conn->host, port, &hints, &conn->addresses);
    loop_enqueue(conn->loop, &conn->resolved_cmd); /* the loop releases our reference */
    return NULL;
}

static bool resolve_numeric(h2shim_conn *conn) {
    char port[8];
    snprintf(port, sizeof port, "%u", conn->options.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
    return getaddrinfo(conn->host, port, &hints, &conn->addresses) == 0;
}

/* A unix socket address in the addrinfo shape, in one allocation freed by free_addresses. */
typedef struct unix_address {
    struct addrinfo info;
    struct sockaddr_un address;
} unix_address;

static bool make_unix_address(h2shim_conn *conn) {
    unix_address *ua = calloc(1, sizeof *ua);
    if (!ua || strlen(conn->host) >= sizeof ua->address.sun_path) {
        free(ua);
        return false;
    }
    ua->address.sun_family = AF_UNIX;
    strcpy(ua->address.sun_path, conn->host);
    ua->info.ai_family = AF_UNIX;
    ua->info.ai_socktype = SOCK_STREAM;
    ua->info.ai_addr = (struct sockaddr *)&ua->address;
    ua->info.ai_addrlen = sizeof ua->address;
    conn->addresses = &ua->info;
    conn->addresses_are_unix = true;
    return true;
}

void conn_start_connect(h2shim_conn *conn) {
    loop_add_conn(conn->loop, conn);
    loop_schedule(conn->loop, &conn->connect_timer, monotonic_now_ns() + conn->options.connect_timeout_ns);
    if (conn->options.is_unix) {
        if (!make_unix_address(conn)) {
            conn_end(conn, "invalid unix socket path", false);
            return;
        }
    } else if (!resolve_numeric(conn)) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        conn_retain(conn);
        int rv = pthread_create(&thread, &attr, resolve_thread, conn);
        pthread_attr_destroy(&attr);
        if (rv != 0) {
            h2shim_conn_release(conn);
            conn_end(conn, "cannot start a resolver thread", false);
        }
        return;
    }
    conn->next_address = conn->addresses;
    connect_next_address(conn);
}

void conn_finish_resolve(h2shim_conn *conn) {
    if (conn->state != CONN_RESOLVING) return;
    if (conn->resolve_error != 0) {
        snprintf(conn->last_error, sizeof conn->last_error, "cannot resolve %s: %s", conn->peer_label,
                 gai_strerror(conn->resolve_error));
        conn_end(conn, conn->last_error, false);
        return;
    }
    conn->next_address = conn->addresses;
    connect_next_address(conn);
}

/* ---- streams ---- */

static void open_stream(h2shim_conn *conn, h2shim_call *call) {
    nghttp2_data_provider provider = session_body_provider(call);
    int32_t stream_id = nghttp2_submit_request(conn->session, NULL, call->nva, call->nv_count,
                                               call->body_len ? &provider : NULL, call);
    if (stream_id < 0) {
        call_complete(call, H2SHIM_NOT_SENT, 0, nghttp2_strerror(stream_id));
        return;
    }
    call->stream_id = stream_id;
    call->holds_stream_ref = true;
    call_retain(call);
    atomic_fetch_add_explicit(&conn->streams_started, 1, memory_order_relaxed);
}

void conn_submit_call(h2shim_conn *conn, h2shim_call *call) {
    conn_link_call(conn, call);
    if (call->completed) return;
    if (conn->state == CONN_CLOSED || conn->state == CONN_DRAINING || conn->shutdown_requested) {
        call_complete(call, H2SHIM_NOT_SENT, 0,
                      conn->state == CONN_CLOSED ? conn->close_reason : "connection is draining");
        return;
    }
    if (call->deadline.due_ns) {
        if (call->deadline.due_ns <= monotonic_now_ns()) {
            call_complete(call, H2SHIM_DEADLINE_EXCEEDED, 0, NULL);
            return;
        }
        loop_schedule(conn->loop, &call->deadline, call->deadline.due_ns);
    }
    if (conn->state == CONN_OPEN) open_stream(conn, call);
}

void conn_cancel_call(h2shim_call *call, h2shim_outcome outcome) {
    if (call->completed) return;
    h2shim_conn *conn = call->conn;
    if (call->holds_stream_ref && conn->session)
        nghttp2_submit_rst_stream(conn->session, NGHTTP2_FLAG_NONE, call->stream_id, NGHTTP2_CANCEL);
    call_complete(call, outcome, 0, NULL);
}

void conn_begin_shutdown(h2shim_conn *conn) {
    conn->shutdown_requested = true;
    switch (conn->state) {
    case CONN_RESOLVING:
    case CONN_CONNECTING:
    case CONN_TLS_HANDSHAKE:
        conn_end(conn, "connection shut down before it was established", true);
        break;
    case CONN_OPEN:
        conn->state = CONN_DRAINING;
        nghttp2_submit_goaway(conn->session, NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR, NULL, 0);
        break;
    case CONN_DRAINING:
    case CONN_CLOSED:
        break;
    }
}

/* ---- I/O ---- */

/* The peer's first bytes were not an HTTP/2 SETTINGS frame (nghttp2 terminated the session): fail
   at once, with what it sent instead (e.g. an HTTP/1.1 status line), rather than drain politely. */
static void fail_not_http2(h2shim_conn *conn, const uint8_t *data, size_t len) {
    char first[48] = "";
    size_t n = 0;
    if (len && data[0] >= 0x20 && data[0] < 0x7F) { /* text: its first line, quoted */
        first[n++] = '"';
        for (size_t i = 0; i < len && n + 2 < sizeof first && data[i] != '\r' && data[i] != '\n'; i++)
            first[n++] = data[i] >= 0x20 && data[i] < 0x7F ? (char)data[i] : '.';
        first[n++] = '"';
        first[n] = '\0';
    } else { /* binary: its first bytes in hex */
        for (size_t i = 0; i < len && i < 8; i++)
            n += (size_t)snprintf(first + n, sizeof first - n, "%s%02x", i ? " " : "bytes ", data[i]);
    }
    bool tls_record = !conn->ssl && len && (data[0] == 0x15 || data[0] == 0x16); /* alert or handshake */
    char reason[240];
    snprintf(reason, sizeof reason, "%s is not an HTTP/2 server: it sent %s instead of SETTINGS%s", conn->peer_label,
             first, tls_record ? " (it speaks TLS: use grpcs://)" : "");
    conn_end(conn, reason, false);
}

/* Hands received HTTP/2 bytes to nghttp2; false once the connection has failed. */
static bool receive_plain(h2shim_conn *conn, const uint8_t *data, size_t len) {
    ssize_t rv = nghttp2_session_mem_recv(conn->session, data, len);
    if (rv < 0) {
        char reason[160];
        snprintf(reason, sizeof reason, "HTTP/2 protocol error from %s: %s", conn->peer_label, nghttp2_strerror((int)rv));
        conn_end(conn, reason, false);
        return false;
    }
    if (conn->preface_invalid) {
        fail_not_http2(conn, data, len);
        return false;
    }
    return true;
}

/* Hands received TLS records to OpenSSL: first the handshake, then the decrypted HTTP/2 bytes. */
static bool receive_tls(h2shim_conn *conn, const uint8_t *data, size_t len) {
    if (!tls_feed(conn, data, len)) {
        conn_end(conn, "out of memory while receiving", false);
        return false;
    }
    if (conn->state == CONN_TLS_HANDSHAKE) {
        int rv = tls_handshake(conn);
        if (rv < 0) {
            conn_end(conn, conn->last_error, false);
            return false;
        }
        if (rv == 0) return true;
        start_session(conn);
        if (conn->state == CONN_CLOSED) return false;
    }
    uint8_t plain[READ_CHUNK];
    for (;;) {
        ssize_t n = tls_read(conn, plain, sizeof plain);
        if (n == 0) return true;
        if (n < 0) {
            conn_end(conn, conn->last_error, conn->calls == NULL);
            return false;
        }
        if (!receive_plain(conn, plain, (size_t)n)) return false;
    }
}

static void read_socket(h2shim_conn *conn) {
    uint8_t buf[READ_CHUNK];
    for (int i = 0; i < READS_PER_EVENT && conn->state != CONN_CLOSED; i++) {
        ssize_t n = read(conn->fd, buf, sizeof buf);
        if (n > 0) {
            atomic_fetch_add_explicit(&conn->bytes_read, (uint64_t)n, memory_order_relaxed);
            conn->last_read_ns = monotonic_now_ns();
            bool alive = conn->ssl ? receive_tls(conn, buf, (size_t)n) : receive_plain(conn, buf, (size_t)n);
            if (!alive || (size_t)n < sizeof buf) return;
        } else if (n == 0) {
            char reason[320];
            if (conn->goaway_detail[0])
                snprintf(reason, sizeof reason, "connection closed by %s after GOAWAY (%s)", conn->peer_label,
                         conn->goaway_detail);
            else if (!conn->ready_reported && conn->ssl)
                snprintf(reason, sizeof reason, "TLS connection closed by %s%s", conn->peer_label, tls_rejection_hint(conn));
            else if (!conn->ready_reported && atomic_load_explicit(&conn->bytes_read, memory_order_relaxed) == 0)
                snprintf(reason, sizeof reason,
                         "connection closed by %s before it sent anything (a TLS server closes a cleartext client so: "
                         "use grpcs:// if it speaks TLS)", conn->peer_label);
            else
                snprintf(reason, sizeof reason, "connection closed by %s", conn->peer_label);
            conn_end(conn, reason, conn->calls == NULL);
            return;
        } else {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            set_error(conn, "read from", errno);
            conn_end(conn, conn->last_error, false);
            return;
        }
    }
}

void conn_handle_io(h2shim_conn *conn, uint32_t epoll_events) {
    if (conn->state == CONN_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            set_error(conn, "connect to", err);
            close_socket(conn);
            connect_next_address(conn);
            return;
        }
        if (epoll_events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(conn);
        return;
    }
    if (conn->state != CONN_OPEN && conn->state != CONN_DRAINING && conn->state != CONN_TLS_HANDSHAKE) return;
    if (epoll_events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) read_socket(conn);
    if (conn->state != CONN_CLOSED && (epoll_events & EPOLLOUT)) conn_flush(conn);
}

static bool write_pending(h2shim_conn *conn) {
    while (conn->outbuf.len) {
        ssize_t n = send(conn->fd, conn->outbuf.data, conn->outbuf.len, MSG_NOSIGNAL);
        if (n > 0) {
            atomic_fetch_add_explicit(&conn->writes, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&conn->bytes_written, (uint64_t)n, memory_order_relaxed);
            byte_buffer_consume(&conn->outbuf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!conn->want_epollout) {
                loop_watch(conn->loop, conn, conn->fd, true);
                conn->want_epollout = true;
            }
            return true;
        }
        set_error(conn, "write to", n < 0 ? errno : EPIPE);
        conn_end(conn, conn->last_error, false);
        return false;
    }
    if (conn->want_epollout) {
        loop_watch(conn->loop, conn, conn->fd, false);
        conn->want_epollout = false;
    }
    return true;
}

/* Serialises every pending frame into one buffer and writes it with as few calls as the socket
   allows; then closes the connection if it has drained. */
void conn_flush(h2shim_conn *conn) {
    if (conn->state == CONN_TLS_HANDSHAKE) {
        write_pending(conn);
        return;
    }
    if (conn->state != CONN_OPEN && conn->state != CONN_DRAINING) return;
    /* With TLS the frames gather in `plain` and are encrypted with one SSL_write per batch. */
    byte_buffer *frames = conn->ssl ? &conn->plain : &conn->outbuf;
    for (;;) {
        while (frames->len < SEND_BATCH_LIMIT) {
            const uint8_t *data;
            ssize_t n = nghttp2_session_mem_send(conn->session, &data);
            if (n < 0) {
                char reason[160];
                snprintf(reason, sizeof reason, "HTTP/2 session error: %s", nghttp2_strerror((int)n));
                conn_end(conn, reason, false);
                return;
            }
            if (n == 0) break;
            if (!byte_buffer_append(frames, data, (size_t)n)) {
                conn_end(conn, "out of memory while sending", false);
                return;
            }
        }
        if (conn->ssl) {
            if (!tls_write(conn, conn->plain.data, conn->plain.len)) {
                conn_end(conn, conn->last_error, false);
                return;
            }
            conn->plain.len = 0;
        }
        if (!write_pending(conn)) return;
        if (conn->outbuf.len || !nghttp2_session_want_write(conn->session)) break;
    }
    if (conn->outbuf.len) return;
    bool drained = conn->state == CONN_DRAINING && conn->calls == NULL;
    bool finished = !nghttp2_session_want_read(conn->session) && !nghttp2_session_want_write(conn->session);
    if (drained || finished) conn_end(conn, "connection drained", true);
}

/* ---- timers ---- */

void conn_on_timer(h2shim_conn *conn, timer *t) {
    if (conn->state == CONN_CLOSED) return;
    uint64_t now = monotonic_now_ns();
    if (t->kind == TIMER_CONNECT) {
        if (conn->ready_reported) return;
        char reason[200];
        snprintf(reason, sizeof reason, "connect to %s timed out after %.1f s (no HTTP/2 SETTINGS received)",
                 conn->peer_label, (double)conn->options.connect_timeout_ns / 1e9);
        conn_end(conn, reason, false);
        return;
    }
    uint64_t interval = conn->options.keepalive_interval_ns;
    if (conn->ping_outstanding) {
        if (now >= conn->ping_sent_ns + conn->options.keepalive_timeout_ns) {
            conn->on_event(conn->context, H2SHIM_EVENT_KEEPALIVE_TIMEOUT, 0, NULL);
            char reason[160];
            snprintf(reason, sizeof reason, "keepalive ping to %s not acknowledged within %.1f s",
                     conn->peer_label, (double)conn->options.keepalive_timeout_ns / 1e9);
            conn_end(conn, reason, false);
        } else {
            schedule_keepalive(conn, conn->ping_sent_ns + conn->options.keepalive_timeout_ns);
        }
        return;
    }
    if (conn->calls && conn->session && now >= conn->last_read_ns + interval) {
        nghttp2_submit_ping(conn->session, NGHTTP2_FLAG_NONE, NULL);
        conn->ping_outstanding = true;
        conn->ping_sent_ns = now;
        schedule_keepalive(conn, now + conn->options.keepalive_timeout_ns);
        return;
    }
    uint64_t due = conn->last_read_ns + interval;
    schedule_keepalive(conn, due > now ? due : now + interval);
}
