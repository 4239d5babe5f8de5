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
    free((char *)target->spec.base_url);
    free((char *)target->spec.user_agent);
    free((char *)target->spec.ca_file);
    free((char *)target->spec.cert_file);
    free((char *)target->spec.key_file);
    free((char *)target->spec.connect_to);
    free((char *)target->spec.unix_socket);
    free(target);
}

static bool append_header(struct curl_slist **list, const char *line) {
    struct curl_slist *grown = rest_curl.slist_append(*list, line);
    if (!grown) return false;
    *list = grown;
    return true;
}

/* accept, user-agent, and an empty Expect (no "100-continue" round trip before a body). */
static bool append_fixed_headers(struct curl_slist **list, const char *user_agent_line) {
    return append_header(list, "accept: application/json") && append_header(list, user_agent_line)
        && append_header(list, "Expect:");
}

rest_target *rest_target_create(const rest_target_spec *spec) {
    if (!spec->base_url || !rest_curl_load()) return NULL;
    rest_target *target = calloc(1, sizeof *target);
    if (!target) return NULL;
    atomic_init(&target->refs, 1);
    target->spec.base_url = copy_string(spec->base_url);
    target->spec.user_agent = copy_string(spec->user_agent);
    target->spec.ca_file = copy_string(spec->ca_file);
    target->spec.cert_file = copy_string(spec->cert_file);
    target->spec.key_file = copy_string(spec->key_file);
    target->spec.connect_to = copy_string(spec->connect_to);
    target->spec.unix_socket = copy_string(spec->unix_socket);
    target->https = strncmp(spec->base_url, "https:", 6) == 0;

    const char *agent = spec->user_agent ? spec->user_agent : "";
    size_t line_len = strlen("user-agent: ") + strlen(agent) + 1;
    char *user_agent_line = malloc(line_len);
    bool ok = user_agent_line && copied(spec->base_url, target->spec.base_url)
        && copied(spec->user_agent, target->spec.user_agent) && copied(spec->ca_file, target->spec.ca_file)
        && copied(spec->cert_file, target->spec.cert_file) && copied(spec->key_file, target->spec.key_file)
        && copied(spec->connect_to, target->spec.connect_to) && copied(spec->unix_socket, target->spec.unix_socket);
    if (ok) {
        snprintf(user_agent_line, line_len, "user-agent: %s", agent);
        ok = append_fixed_headers(&target->get_headers, user_agent_line)
            && append_fixed_headers(&target->post_headers, user_agent_line)
            && append_header(&target->post_headers, "content-type: application/json");
    }
    free(user_agent_line);
    if (ok && spec->connect_to) ok = append_header(&target->connect_to_list, spec->connect_to);
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
