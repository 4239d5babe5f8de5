/* libcurl's functions, loaded when the first REST loop starts (rest_curl_load) rather than linked.
 *
 * Debian's libcurl pulls in 26 more shared libraries (GnuTLS through librtmp, Kerberos, LDAP,
 * libssh2, …) whose loading and constructors cost about 9 ms at every process start (measured:
 * an empty C program 1.1 ms, the same linked with -lcurl 10.0 ms). Linked, every process using
 * this package paid that, gRPC-only ones included; loaded, only a process that makes a REST
 * client does, once.
 */
#ifndef RESTSHIM_CURL_API_H
#define RESTSHIM_CURL_API_H

#include <curl/curl.h>
#include <stdbool.h>

typedef struct rest_curl_api {
    __typeof__(curl_global_init) *global_init;
    __typeof__(curl_getdate) *getdate;
    __typeof__(curl_slist_append) *slist_append;
    __typeof__(curl_slist_free_all) *slist_free_all;
    __typeof__(curl_easy_init) *easy_init;
    __typeof__(curl_easy_reset) *easy_reset;
    __typeof__(curl_easy_cleanup) *easy_cleanup;
    __typeof__(curl_easy_setopt) *easy_setopt;
    __typeof__(curl_easy_getinfo) *easy_getinfo;
    __typeof__(curl_easy_header) *easy_header;
    __typeof__(curl_easy_strerror) *easy_strerror;
    __typeof__(curl_multi_init) *multi_init;
    __typeof__(curl_multi_setopt) *multi_setopt;
    __typeof__(curl_multi_add_handle) *multi_add_handle;
    __typeof__(curl_multi_remove_handle) *multi_remove_handle;
    __typeof__(curl_multi_socket_action) *multi_socket_action;
    __typeof__(curl_multi_info_read) *multi_info_read;
    __typeof__(curl_multi_cleanup) *multi_cleanup;
} rest_curl_api;

/* Filled in by rest_curl_load; read only after it returned true. */
extern rest_curl_api rest_curl;

/* Loads libcurl and runs curl_global_init, once per process (any thread); whether that worked. */
bool rest_curl_load(void);

#endif
