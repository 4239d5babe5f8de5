/* A call's memory, reference counting and its single completion.
 *
 * References: the submitter holds one until it calls h2shim_call_release; the loop holds one from
 * submission until the completion has run; nghttp2 holds one while the stream refers to the call
 * (its body is read from here); each queued cancel command holds one. The request headers and
 * body live in the same allocation as the call.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static uint32_t read_le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

h2shim_call *h2shim_submit(h2shim_conn *conn, const uint8_t *header_block, size_t header_block_len,
                           size_t header_count, const uint8_t *body, size_t body_len,
                           uint64_t timeout_ns, uint64_t max_response_bytes,
                           h2shim_completion_fn on_complete, void *context) {
    size_t nv_bytes = header_count * sizeof(nghttp2_nv);
    h2shim_call *call = calloc(1, sizeof *call + nv_bytes + header_block_len + body_len);
    if (!call) return NULL;
    uint8_t *tail = (uint8_t *)(call + 1);
    call->nva = (nghttp2_nv *)tail;
    uint8_t *headers = tail + nv_bytes;
    memcpy(headers, header_block, header_block_len);
    uint8_t *body_copy = headers + header_block_len;
    if (body_len) memcpy(body_copy, body, body_len);

    size_t offset = 0;
    size_t count = 0;
    while (count < header_count && offset + 8 <= header_block_len) {
        uint32_t name_len = read_le32(headers + offset);
        uint32_t value_len = read_le32(headers + offset + 4);
        offset += 8;
        if (offset + name_len + value_len > header_block_len) break;
        /* grpc-timeout changes on every call: indexing it would churn both HPACK tables. */
        bool per_call = name_len == 12 && memcmp(headers + offset, "grpc-timeout", 12) == 0;
        call->nva[count] = (nghttp2_nv){
            .name = headers + offset,
            .namelen = name_len,
            .value = headers + offset + name_len,
            .valuelen = value_len,
            .flags = per_call ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE,
        };
        offset += name_len + value_len;
        count++;
    }
    call->nv_count = count;
    call->body = body_copy;
    call->body_len = body_len;
    call->max_response_bytes = max_response_bytes;
    call->on_complete = on_complete;
    call->context = context;
    call->conn = conn;
    call->deadline.kind = TIMER_CALL_DEADLINE;
    call->deadline.heap_index = SIZE_MAX;
    call->deadline.due_ns = timeout_ns ? monotonic_now_ns() + timeout_ns : 0;
    call->submit_cmd.kind = CMD_SUBMIT;
    call->cancel_cmd.kind = CMD_CANCEL;
    atomic_init(&call->refs, 2); /* the submitter's and the loop's */
    conn_retain(conn);
    loop_enqueue(conn->loop, &call->submit_cmd);
    return call;
}

void call_retain(h2shim_call *call) {
    atomic_fetch_add_explicit(&call->refs, 1, memory_order_relaxed);
}

void h2shim_call_release(h2shim_call *call) {
    if (atomic_fetch_sub_explicit(&call->refs, 1, memory_order_acq_rel) != 1) return;
    h2shim_conn *conn = call->conn;
    byte_buffer_free(&call->header_bytes);
    byte_buffer_free(&call->header_records);
    byte_buffer_free(&call->response_body);
    free(call);
    h2shim_conn_release(conn);
}

void h2shim_call_cancel(h2shim_call *call) {
    bool expected = false;
    if (!atomic_compare_exchange_strong(&call->cancel_requested, &expected, true)) return;
    call_retain(call);
    loop_enqueue(call->conn->loop, &call->cancel_cmd);
}

static void fill_headers(const h2shim_call *call, h2shim_header *out, size_t first, size_t count) {
    const header_record *records = (const header_record *)call->header_records.data;
    for (size_t i = 0; i < count; i++) {
        const header_record *r = &records[first + i];
        out[i] = (h2shim_header){
            .name = call->header_bytes.data + r->name_offset,
            .name_len = r->name_len,
            .value = call->header_bytes.data + r->value_offset,
            .value_len = r->value_len,
        };
    }
}

/* Delivers the one completion and drops the loop's reference. Runs on the loop thread. */
void call_complete(h2shim_call *call, h2shim_outcome outcome, uint32_t reset_code, const char *detail) {
    if (call->completed) return;
    call->completed = true;
    call->conn->loop->completed_in_turn = true;
    loop_unschedule(call->conn->loop, &call->deadline);

    size_t total = call->header_records.len / sizeof(header_record);
    size_t initial = call->headers_done ? call->initial_header_count : total;
    size_t trailing = total - initial;
    h2shim_header stack_headers[32];
    h2shim_header *headers = total <= 32 ? stack_headers : malloc(total * sizeof(h2shim_header));
    if (!headers) total = initial = trailing = 0;
    if (total) {
        fill_headers(call, headers, 0, initial);
        fill_headers(call, headers + initial, initial, trailing);
    }
    h2shim_result result = {
        .outcome = outcome,
        .reset_code = reset_code,
        .headers = headers,
        .header_count = initial,
        .trailers = headers + initial,
        .trailer_count = trailing,
        .body = call->response_body.data,
        .body_len = call->response_body.len,
        .detail = detail,
    };
    call->on_complete(call->context, &result);
    if (headers && headers != stack_headers) free(headers);

    /* The response is delivered: give its memory back now, the call may linger in nghttp2. */
    byte_buffer_free(&call->header_bytes);
    byte_buffer_free(&call->header_records);
    byte_buffer_free(&call->response_body);
    if (!call->holds_stream_ref) conn_unlink_call(call->conn, call);
    h2shim_call_release(call);
}
