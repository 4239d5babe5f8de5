/* A request's memory, its libcurl options, and its single completion.
 *
 * References: the starter holds one until rest_call_release; each queued command holds one; the
 * multi holds one while the transfer runs. The request's URL, metadata and body are copies in one
 * allocation; what all requests to an endpoint share is the target's (rest_target.c).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* Copies the request's URL (base + path), metadata and body into one allocation: `storage`. */
static bool copy_request(rest_call *call, const rest_target *target, const rest_request *request) {
    size_t base_len = strlen(target->base_url);
    size_t path_len = request->path ? strlen(request->path) : 0;
    size_t url_len = base_len + path_len + 1;
    char *storage = malloc(url_len + request->metadata_len + request->body_len);
    if (!storage) return false;
    call->storage = storage;
    call->request = *request;
    call->url = storage;
    memcpy(storage, target->base_url, base_len);
    if (path_len) memcpy(storage + base_len, request->path, path_len);
    storage[base_len + path_len] = '\0';
    call->request.path = NULL; /* the URL holds it */
    char *metadata = storage + url_len;
    if (request->metadata_len) memcpy(metadata, request->metadata, request->metadata_len);
    call->request.metadata = request->metadata_len ? metadata : NULL;
    uint8_t *body = (uint8_t *)metadata + request->metadata_len;
    if (request->body_len) memcpy(body, request->body, request->body_len);
    call->request.body = request->body_len ? body : NULL;
    return true;
}

rest_call *rest_call_start(rest_loop *loop, rest_target *target, const rest_request *request,
                           rest_completion_fn on_complete, void *context) {
    rest_call *call = calloc(1, sizeof *call);
    if (!call) return NULL;
    if (!copy_request(call, target, request)) {
        free(call);
        return NULL;
    }
    call->target = target;
    rest_target_retain(target);
    call->on_complete = on_complete;
    call->context = context;
    call->start_cmd.kind = REST_CMD_START;
    call->cancel_cmd.kind = REST_CMD_CANCEL;
    call->loop = loop;
    rest_loop_retain(loop);
    atomic_init(&call->refs, 2); /* the starter's and the start command's */
    if (!rest_loop_enqueue(loop, &call->start_cmd)) {
        rest_call_fail(call, REST_NOT_SENT, "the client's REST loop is closed");
        rest_call_release(call);
    }
    return call;
}

void rest_call_cancel(rest_call *call) {
    if (atomic_exchange(&call->cancel_requested, true)) return;
    rest_call_retain(call);
    if (!rest_loop_enqueue(call->loop, &call->cancel_cmd)) rest_call_release(call);
}

void rest_call_retain(rest_call *call) {
    atomic_fetch_add_explicit(&call->refs, 1, memory_order_relaxed);
}

void rest_call_release(rest_call *call) {
    if (atomic_fetch_sub_explicit(&call->refs, 1, memory_order_acq_rel) != 1) return;
    rest_curl.slist_free_all(call->header_list);
    free(call->storage);
    free(call->body);
    rest_target_release(call->target);
    rest_loop *loop = call->loop;
    free(call);
    rest_loop_release(loop);
}

/* Keeps the (decoded) body, up to the limit: past it the transfer fails and is reported too large. */
static size_t receive(char *data, size_t size, size_t count, void *userdata) {
    rest_call *call = userdata;
    size_t len = size * count;
    if (call->body_len + len > call->request.max_response_bytes) {
        call->too_large = true;
        return 0;
    }
    if (call->body_len + len > call->body_cap) {
        size_t cap = call->body_cap ? call->body_cap : 1024;
        while (cap < call->body_len + len) cap *= 2;
        uint8_t *grown = realloc(call->body, cap);
        if (!grown) return 0;
        call->body = grown;
        call->body_cap = cap;
    }
    memcpy(call->body + call->body_len, data, len);
    call->body_len += len;
    return len;
}

/* The target's fixed headers and the call's metadata lines. */
static struct curl_slist *headers_with_metadata(const struct curl_slist *fixed, const rest_request *request) {
    struct curl_slist *list = NULL;
    for (const struct curl_slist *line = fixed; line; line = line->next) {
        if (!rest_append_header(&list, line->data)) goto failed;
    }
    const char *end = request->metadata + request->metadata_len;
    for (const char *line = request->metadata; line < end;) {
        const char *nul = memchr(line, '\0', (size_t)(end - line));
        if (!nul || !rest_append_header(&list, line)) goto failed; /* a last line without its NUL, or no memory */
        line = nul + 1;
    }
    return list;
failed:
    rest_curl.slist_free_all(list);
    return NULL;
}

bool rest_call_configure(rest_call *call, CURL *easy) {
    const rest_request *r = &call->request;
    const rest_target *target = call->target;
    call->error[0] = '\0';
    struct curl_slist *fixed = r->post ? target->post_headers : target->get_headers;
    if (r->metadata && !call->header_list && !(call->header_list = headers_with_metadata(fixed, r))) return false;
    bool ok = rest_curl.easy_setopt(easy, CURLOPT_URL, call->url) == CURLE_OK
        && rest_curl.easy_setopt(easy, CURLOPT_PRIVATE, call) == CURLE_OK
        && rest_curl.easy_setopt(easy, CURLOPT_ERRORBUFFER, call->error) == CURLE_OK
        && rest_curl.easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK
        && rest_curl.easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK
        /* No proxy, as over gRPC (and no *_proxy environment lookups on every request). */
        && rest_curl.easy_setopt(easy, CURLOPT_PROXY, "") == CURLE_OK
        && rest_curl.easy_setopt(easy, CURLOPT_HTTPHEADER, call->header_list ? call->header_list : fixed) == CURLE_OK
        && rest_curl.easy_setopt(easy, CURLOPT_WRITEFUNCTION, receive) == CURLE_OK
        && rest_curl.easy_setopt(easy, CURLOPT_WRITEDATA, call) == CURLE_OK
        && rest_curl.easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip") == CURLE_OK
        /* HTTP/1.1 only: h2 goes on the client's own HTTP/2 transport (RESTHTTP2Connection). */
        && rest_curl.easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1) == CURLE_OK
        && rest_curl.easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms) == CURLE_OK;
    if (ok && r->post) {
        ok = rest_curl.easy_setopt(easy, CURLOPT_POST, 1L) == CURLE_OK
            && rest_curl.easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len) == CURLE_OK
            && rest_curl.easy_setopt(easy, CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "") == CURLE_OK;
    }
    if (ok && target->ca_file) ok = rest_curl.easy_setopt(easy, CURLOPT_CAINFO, target->ca_file) == CURLE_OK;
    if (ok && target->cert_file) ok = rest_curl.easy_setopt(easy, CURLOPT_SSLCERT, target->cert_file) == CURLE_OK;
    if (ok && target->key_file) ok = rest_curl.easy_setopt(easy, CURLOPT_SSLKEY, target->key_file) == CURLE_OK;
    if (ok && target->connect_to_list) ok = rest_curl.easy_setopt(easy, CURLOPT_CONNECT_TO, target->connect_to_list) == CURLE_OK;
    if (ok && target->unix_socket) ok = rest_curl.easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, target->unix_socket) == CURLE_OK;
    if (ok && r->connect_only) ok = rest_curl.easy_setopt(easy, CURLOPT_CONNECT_ONLY, 1L) == CURLE_OK;
    /* A connection of its own, closed after it (not left idle in the cache for others). */
    if (ok && r->fresh_connection) {
        ok = rest_curl.easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L) == CURLE_OK
            && rest_curl.easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L) == CURLE_OK;
    }
    return ok;
}

static void complete(rest_call *call, const rest_result *result) {
    if (call->completed) return;
    call->completed = true;
    call->on_complete(call->context, result);
}

void rest_call_fail(rest_call *call, rest_outcome outcome, const char *detail) {
    rest_result result = {.outcome = outcome, .detail = detail};
    complete(call, &result);
}

/* Nothing left this process when no connection could be made. */
static rest_outcome outcome_of(CURLcode code, bool too_large) {
    switch (code) {
    case CURLE_OK: return REST_COMPLETE;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return REST_NOT_SENT;
    case CURLE_OPERATION_TIMEDOUT: return REST_DEADLINE_EXCEEDED;
    case CURLE_FILESIZE_EXCEEDED: return REST_RESPONSE_TOO_LARGE;
    case CURLE_WRITE_ERROR: return too_large ? REST_RESPONSE_TOO_LARGE : REST_CONNECTION_LOST;
    default: return REST_CONNECTION_LOST;
    }
}

static const char *header_value(CURL *easy, const char *name) {
    struct curl_header *header = NULL;
    return rest_curl.easy_header(easy, name, 0, CURLH_HEADER, -1, &header) == CURLHE_OK ? header->value : NULL;
}

void rest_call_finish(rest_call *call, CURL *easy, CURLcode code) {
    rest_result result = {.outcome = outcome_of(code, call->too_large)};
    if (code != CURLE_OK) {
        result.detail = call->error[0] ? call->error : rest_curl.easy_strerror(code);
        complete(call, &result);
        return;
    }
    result.detail = "";
    if (!call->request.connect_only) {
        rest_curl.easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.status);
        result.body = call->body;
        result.body_len = call->body_len;
        if (result.status < 200 || result.status >= 300) { /* what an error's mapping reads */
            result.retry_after = header_value(easy, "Retry-After");
            result.location = header_value(easy, "Location");
        }
    }
    complete(call, &result);
}
