/* A request's memory, its libcurl options, and its single completion.
 *
 * References: the starter holds one until rest_call_release; each queued command holds one; the
 * multi holds one while the transfer runs. The request's strings and body are owned copies.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static char *copy_string(const char *text) {
    return text ? strdup(text) : NULL;
}

static void free_request(rest_request *request) {
    free((char *)request->url);
    for (size_t i = 0; i < request->header_count; i++) free((char *)request->headers[i]);
    free((char **)request->headers);
    free((uint8_t *)request->body);
    free((char *)request->ca_file);
    free((char *)request->cert_file);
    free((char *)request->key_file);
    free((char *)request->connect_to);
    free((char *)request->unix_socket);
}

static bool copy_request(rest_request *copy, const rest_request *request) {
    *copy = *request;
    copy->headers = NULL;
    copy->header_count = 0;
    copy->body = NULL;
    copy->url = copy_string(request->url);
    copy->ca_file = copy_string(request->ca_file);
    copy->cert_file = copy_string(request->cert_file);
    copy->key_file = copy_string(request->key_file);
    copy->connect_to = copy_string(request->connect_to);
    copy->unix_socket = copy_string(request->unix_socket);
    char **headers = calloc(request->header_count ? request->header_count : 1, sizeof *headers);
    copy->headers = (const char *const *)headers;
    if (!headers || !copy->url) return false;
    copy->header_count = request->header_count; /* the array is zeroed: a partial copy frees cleanly */
    for (size_t i = 0; i < request->header_count; i++) {
        if (!(headers[i] = strdup(request->headers[i]))) return false;
    }
    if (request->body_len) {
        uint8_t *body = malloc(request->body_len);
        if (!body) return false;
        memcpy(body, request->body, request->body_len);
        copy->body = body;
    }
    return true;
}

rest_call *rest_call_start(rest_loop *loop, const rest_request *request, rest_completion_fn on_complete, void *context) {
    rest_call *call = calloc(1, sizeof *call);
    if (!call) return NULL;
    if (!copy_request(&call->request, request)) {
        free_request(&call->request);
        free(call);
        return NULL;
    }
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
    curl_slist_free_all(call->header_list);
    curl_slist_free_all(call->connect_to_list);
    free_request(&call->request);
    free(call->body);
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

static bool append_header(struct curl_slist **list, const char *line) {
    struct curl_slist *grown = curl_slist_append(*list, line);
    if (!grown) return false;
    *list = grown;
    return true;
}

bool rest_call_configure(rest_call *call, CURL *easy) {
    const rest_request *r = &call->request;
    call->error[0] = '\0';
    if (!call->header_list) {
        for (size_t i = 0; i < r->header_count; i++) {
            if (!append_header(&call->header_list, r->headers[i])) return false;
        }
        /* No "Expect: 100-continue" round trip before a body. */
        if (!append_header(&call->header_list, "Expect:")) return false;
    }
    if (r->connect_to && !call->connect_to_list && !append_header(&call->connect_to_list, r->connect_to)) return false;
    bool https = strncmp(r->url, "https:", 6) == 0;
    bool ok = curl_easy_setopt(easy, CURLOPT_URL, r->url) == CURLE_OK
        && curl_easy_setopt(easy, CURLOPT_PRIVATE, call) == CURLE_OK
        && curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, call->error) == CURLE_OK
        && curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L) == CURLE_OK
        && curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK
        /* No proxy, as over gRPC (and no *_proxy environment lookups on every request). */
        && curl_easy_setopt(easy, CURLOPT_PROXY, "") == CURLE_OK
        && curl_easy_setopt(easy, CURLOPT_HTTPHEADER, call->header_list) == CURLE_OK
        && curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, receive) == CURLE_OK
        && curl_easy_setopt(easy, CURLOPT_WRITEDATA, call) == CURLE_OK
        && curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip") == CURLE_OK
        && curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, https ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1) == CURLE_OK
        /* HTTP/2: wait for the connection being set up rather than open one per concurrent request. */
        && curl_easy_setopt(easy, CURLOPT_PIPEWAIT, https ? 1L : 0L) == CURLE_OK
        && curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms) == CURLE_OK;
    if (ok && r->post) {
        ok = curl_easy_setopt(easy, CURLOPT_POST, 1L) == CURLE_OK
            && curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len) == CURLE_OK
            && curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "") == CURLE_OK;
    }
    if (ok && r->ca_file) ok = curl_easy_setopt(easy, CURLOPT_CAINFO, r->ca_file) == CURLE_OK;
    if (ok && r->cert_file) ok = curl_easy_setopt(easy, CURLOPT_SSLCERT, r->cert_file) == CURLE_OK;
    if (ok && r->key_file) ok = curl_easy_setopt(easy, CURLOPT_SSLKEY, r->key_file) == CURLE_OK;
    if (ok && call->connect_to_list) ok = curl_easy_setopt(easy, CURLOPT_CONNECT_TO, call->connect_to_list) == CURLE_OK;
    if (ok && r->unix_socket) ok = curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, r->unix_socket) == CURLE_OK;
    if (ok && r->connect_only) ok = curl_easy_setopt(easy, CURLOPT_CONNECT_ONLY, 1L) == CURLE_OK;
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
    return curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &header) == CURLHE_OK ? header->value : NULL;
}

void rest_call_finish(rest_call *call, CURL *easy, CURLcode code) {
    rest_result result = {.outcome = outcome_of(code, call->too_large)};
    if (code != CURLE_OK) {
        result.detail = call->error[0] ? call->error : curl_easy_strerror(code);
        complete(call, &result);
        return;
    }
    result.detail = "";
    if (!call->request.connect_only) {
        long version = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.status);
        curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
        result.http_version = version == CURL_HTTP_VERSION_2_0 ? 2 : 1;
        result.body = call->body;
        result.body_len = call->body_len;
        result.content_type = header_value(easy, "Content-Type");
        result.retry_after = header_value(easy, "Retry-After");
        result.location = header_value(easy, "Location");
    }
    complete(call, &result);
}
