/* Loads libcurl at run time: see curl_api.h for why. */
#include "curl_api.h"
#include "restshim.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

rest_curl_api rest_curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[256];

/* Debian's libcurl4 (the OpenSSL build): the soname is the ABI the headers describe. */
#define LIBCURL_SONAME "libcurl.so.4"

static void *symbol(void *library, const char *name, bool *ok) {
    void *address = dlsym(library, name);
    if (!address && *ok) {
        snprintf(load_error, sizeof load_error, "%s has no %s", LIBCURL_SONAME, name);
        *ok = false;
    }
    return address;
}

static void load(void) {
    void *library = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        const char *reason = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load %s (Debian package libcurl4): %s", LIBCURL_SONAME,
                 reason ? reason : "unknown error");
        return;
    }
    bool ok = true;
#define LOAD(field, name) rest_curl.field = (__typeof__(rest_curl.field))symbol(library, name, &ok)
    LOAD(global_init, "curl_global_init");
    LOAD(getdate, "curl_getdate");
    LOAD(slist_append, "curl_slist_append");
    LOAD(slist_free_all, "curl_slist_free_all");
    LOAD(easy_init, "curl_easy_init");
    LOAD(easy_reset, "curl_easy_reset");
    LOAD(easy_cleanup, "curl_easy_cleanup");
    LOAD(easy_setopt, "curl_easy_setopt");
    LOAD(easy_getinfo, "curl_easy_getinfo");
    LOAD(easy_header, "curl_easy_header");
    LOAD(easy_strerror, "curl_easy_strerror");
    LOAD(multi_init, "curl_multi_init");
    LOAD(multi_setopt, "curl_multi_setopt");
    LOAD(multi_add_handle, "curl_multi_add_handle");
    LOAD(multi_remove_handle, "curl_multi_remove_handle");
    LOAD(multi_socket_action, "curl_multi_socket_action");
    LOAD(multi_info_read, "curl_multi_info_read");
    LOAD(multi_cleanup, "curl_multi_cleanup");
#undef LOAD
    if (!ok) return; /* the library stays loaded: it may be shared with others in the process */
    CURLcode code = rest_curl.global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed (%d)", (int)code);
        return;
    }
    loaded = true;
}

bool rest_curl_load(void) {
    pthread_once(&load_once, load);
    return loaded;
}

const char *rest_transport_load_error(void) {
    return rest_curl_load() ? NULL : load_error;
}

int64_t rest_parse_http_date(const char *text) {
    if (!text || !rest_curl_load()) return -1;
    return (int64_t)rest_curl.getdate(text, NULL);
}
