/* nghttp2 callbacks: a thin adapter that records what arrives on each stream into its call.
 * Policy (what a status means, whether to retry) lives in Swift. */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static h2shim_call *call_for(nghttp2_session *session, int32_t stream_id) {
    return nghttp2_session_get_stream_user_data(session, stream_id);
}

/* Reads the request body into nghttp2's DATA frames; EOF on the last chunk puts END_STREAM on
   the frame that carries the last bytes. */
static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *user_data) {
    (void)session, (void)stream_id, (void)user_data;
    h2shim_call *call = source->ptr;
    size_t remaining = call->body_len - call->body_sent;
    size_t n = remaining < length ? remaining : length;
    memcpy(buf, call->body + call->body_sent, n);
    call->body_sent += n;
    if (call->body_sent == call->body_len) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

nghttp2_data_provider session_body_provider(h2shim_call *call) {
    return (nghttp2_data_provider){.source.ptr = call, .read_callback = read_body};
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data) {
    (void)flags, (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    h2shim_call *call = call_for(session, frame->hd.stream_id);
    if (!call || call->completed) return 0;

    /* RFC 9113 counts each field as name + value + 32 bytes. */
    call->header_list_bytes += namelen + valuelen + 32;
    if (call->header_list_bytes > call->conn->options.max_header_list_size) {
        conn_cancel_call(call, H2SHIM_HEADERS_TOO_LARGE);
        return 0;
    }
    header_record record = {
        .name_offset = (uint32_t)call->header_bytes.len,
        .name_len = (uint32_t)namelen,
        .value_offset = (uint32_t)(call->header_bytes.len + namelen),
        .value_len = (uint32_t)valuelen,
    };
    if (!byte_buffer_append(&call->header_bytes, name, namelen) ||
        !byte_buffer_append(&call->header_bytes, value, valuelen) ||
        !byte_buffer_append(&call->header_records, (const uint8_t *)&record, sizeof record)) {
        conn_cancel_call(call, H2SHIM_HEADERS_TOO_LARGE);
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *user_data) {
    (void)flags, (void)user_data;
    h2shim_call *call = call_for(session, stream_id);
    if (!call || call->completed) return 0;
    if (call->response_body.len + len > call->max_response_bytes ||
        !byte_buffer_append(&call->response_body, data, len)) {
        conn_cancel_call(call, H2SHIM_RESPONSE_TOO_LARGE);
        return 0;
    }
    /* The body starts with a gRPC message prefix (flag 0 or 1, 4-byte big-endian length): once it
       is complete, a message announced larger than the limit fails now, not after its bytes came
       (or never came). */
    const uint8_t *p = call->response_body.data;
    if (!call->conn->options.plain_bodies && call->response_body.len >= 5 && call->response_body.len - len < 5 && p[0] <= 1) {
        uint64_t announced = (uint64_t)p[1] << 24 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 8 | p[4];
        if (announced + 5 > call->max_response_bytes) conn_cancel_call(call, H2SHIM_RESPONSE_TOO_LARGE);
    }
    return 0;
}

/* Whether the only header block recorded is an informational (1xx) response, such as 103 Early
   Hints: the final response follows on the same stream (RFC 9110, 15.2). */
static bool is_informational(const h2shim_call *call) {
    const header_record *records = (const header_record *)call->header_records.data;
    size_t count = call->header_records.len / sizeof(header_record);
    for (size_t i = 0; i < count; i++) {
        if (records[i].name_len == 7 && memcmp(call->header_bytes.data + records[i].name_offset, ":status", 7) == 0) {
            return records[i].value_len == 3 && call->header_bytes.data[records[i].value_offset] == '1';
        }
    }
    return false;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
    h2shim_conn *conn = user_data;
    switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA: {
        h2shim_call *call = call_for(session, frame->hd.stream_id);
        if (!call) break;
        if (frame->hd.type == NGHTTP2_HEADERS) {
            if (!call->headers_done && is_informational(call)) {
                call->header_records.len = 0; /* a final response follows: it is the headers */
                call->header_bytes.len = 0;
            } else if (!call->headers_done) {
                call->headers_done = true;
                call->initial_header_count = call->header_records.len / sizeof(header_record);
            }
            call->header_list_bytes = 0; /* the limit applies to each header list on its own */
        }
        if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) call->end_stream_received = true;
        break;
    }
    case NGHTTP2_SETTINGS:
        if (!(frame->hd.flags & NGHTTP2_FLAG_ACK)) {
            uint32_t max = nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
            atomic_store_explicit(&conn->peer_max_concurrent_streams, max, memory_order_relaxed);
            if (!conn->ready_reported) {
                conn->ready_reported = true;
                loop_unschedule(conn->loop, &conn->connect_timer);
                conn->on_event(conn->context, H2SHIM_EVENT_READY, max, NULL);
            } else {
                conn->on_event(conn->context, H2SHIM_EVENT_SETTINGS, max, NULL);
            }
        }
        break;
    case NGHTTP2_PING:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK) conn_ping_acknowledged(conn);
        break;
    case NGHTTP2_GOAWAY: {
        char detail[160];
        size_t debug_len = frame->goaway.opaque_data_len;
        if (debug_len > 100) debug_len = 100;
        snprintf(detail, sizeof detail, "%s%s%.*s", nghttp2_http2_strerror(frame->goaway.error_code),
                 debug_len ? ": " : "", (int)debug_len, (const char *)frame->goaway.opaque_data);
        if (conn->state == CONN_OPEN) conn->state = CONN_DRAINING;
        snprintf(conn->goaway_detail, sizeof conn->goaway_detail, "%s", detail);
        conn->on_event(conn->context, H2SHIM_EVENT_GOAWAY, (uint64_t)frame->goaway.last_stream_id, detail);
        break;
    }
    default:
        break;
    }
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *user_data) {
    h2shim_conn *conn = user_data;
    h2shim_call *call = call_for(session, stream_id);
    if (!call) return 0;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    if (call->request_sent) atomic_fetch_sub_explicit(&conn->streams_open, 1, memory_order_relaxed);
    if (call->end_stream_received) call_complete(call, H2SHIM_COMPLETE, 0, NULL);
    else call_complete(call, H2SHIM_RESET, error_code, NULL);
    call->holds_stream_ref = false;
    conn_unlink_call(conn, call);
    h2shim_call_release(call);
    return 0;
}

/* A request's HEADERS left: the stream is open on the server's side from now on (nghttp2 holds
   back HEADERS beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS, so this counts real streams). */
static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
    h2shim_conn *conn = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    h2shim_call *call = call_for(session, frame->hd.stream_id);
    if (!call || call->request_sent) return 0;
    call->request_sent = true;
    uint64_t open = atomic_fetch_add_explicit(&conn->streams_open, 1, memory_order_relaxed) + 1;
    if (open > atomic_load_explicit(&conn->max_streams_open, memory_order_relaxed))
        atomic_store_explicit(&conn->max_streams_open, open, memory_order_relaxed);
    return 0;
}

static int on_error(nghttp2_session *session, int lib_error_code, const char *msg, size_t len,
                    void *user_data) {
    (void)session, (void)msg, (void)len;
    h2shim_conn *conn = user_data;
    /* The server's first frame was not SETTINGS: it does not speak HTTP/2 (read_socket fails the
       connection with what it sent). */
    if (lib_error_code == NGHTTP2_ERR_SETTINGS_EXPECTED) conn->preface_invalid = true;
    return 0;
}

static nghttp2_session_callbacks *callbacks;
static pthread_once_t callbacks_once = PTHREAD_ONCE_INIT;

static void make_callbacks(void) {
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, on_frame_send);
    nghttp2_session_callbacks_set_error_callback2(callbacks, on_error);
}

nghttp2_session_callbacks *session_callbacks_shared(void) {
    pthread_once(&callbacks_once, make_callbacks);
    return callbacks;
}
