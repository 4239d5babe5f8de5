/* A request target: what every request to one endpoint shares, copied and built once (the fixed
 * header lists above all) instead of per request. References: the creator's, and one per call. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *copy_string(const char *text) {
    return text ? strdup(text) : NULL;
}

/* Whether `original` was copied (a NULL copy of a set string means memory ran out). */
static bool copied(const char *original, const char *copy) {
    return !original || copy;
}

static void free_target(rest_target *target) {
    rest_curl.slist_free_all(target->get_headers);
    rest_curl.slist_free_all(target->post_headers);
    rest_curl.slist_free_all(target->connect_to_list);
    free(target->base_url);
    free(target->ca_file);
    free(target->cert_file);
    free(target->key_file);
    free(target->unix_socket);
    free(target);
}

bool rest_append_header(struct curl_slist **list, const char *line) {
    struct curl_slist *grown = rest_curl.slist_append(*list, line);
    if (!grown) return false;
    *list = grown;
    return true;
}

/* accept, user-agent, and an empty Expect (no "100-continue" round trip before a body). */
static bool append_fixed_headers(struct curl_slist **list, const char *user_agent_line) {
    return rest_append_header(list, "accept: application/json") && rest_append_header(list, user_agent_line)
        && rest_append_header(list, "Expect:");
}

rest_target *rest_target_create(const char *base_url, const char *user_agent, const char *ca_file,
                                const char *cert_file, const char *key_file, const char *connect_to,
                                const char *unix_socket) {
    if (!base_url || !rest_curl_load()) return NULL;
    rest_target *target = calloc(1, sizeof *target);
    if (!target) return NULL;
    atomic_init(&target->refs, 1);
    target->base_url = copy_string(base_url);
    target->ca_file = copy_string(ca_file);
    target->cert_file = copy_string(cert_file);
    target->key_file = copy_string(key_file);
    target->unix_socket = copy_string(unix_socket);

    const char *agent = user_agent ? user_agent : "";
    size_t line_len = strlen("user-agent: ") + strlen(agent) + 1;
    char *user_agent_line = malloc(line_len);
    bool ok = user_agent_line && copied(base_url, target->base_url) && copied(ca_file, target->ca_file)
        && copied(cert_file, target->cert_file) && copied(key_file, target->key_file)
        && copied(unix_socket, target->unix_socket);
    if (ok) {
        snprintf(user_agent_line, line_len, "user-agent: %s", agent);
        ok = append_fixed_headers(&target->get_headers, user_agent_line)
            && append_fixed_headers(&target->post_headers, user_agent_line)
            && rest_append_header(&target->post_headers, "content-type: application/json");
    }
    free(user_agent_line);
    if (ok && connect_to) ok = rest_append_header(&target->connect_to_list, connect_to);
    if (!ok) {
        free_target(target);
        return NULL;
    }
    return target;
}

void rest_target_retain(rest_target *target) {
    atomic_fetch_add_explicit(&target->refs, 1, memory_order_relaxed);
}

void rest_target_release(rest_target *target) {
    if (atomic_fetch_sub_explicit(&target->refs, 1, memory_order_acq_rel) != 1) return;
    free_target(target);
}
