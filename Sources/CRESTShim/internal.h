/* Internal structures of the REST loop: shared by the loop and call files. */
#ifndef RESTSHIM_INTERNAL_H
#define RESTSHIM_INTERNAL_H

#include "restshim.h"

#include "curl_api.h"
#include <pthread.h>
#include <stdatomic.h>

typedef enum rest_command_kind { REST_CMD_START, REST_CMD_CANCEL, REST_CMD_STOP } rest_command_kind;

/* An intrusive node queued from any thread to the loop; each queued node holds a reference. */
typedef struct rest_command {
    rest_command_kind kind;
    struct rest_command *next;
} rest_command;

struct rest_target {
    atomic_int refs;
    char *base_url;                    /* owned copies; NULL: not set */
    char *ca_file, *cert_file, *key_file, *unix_socket;
    struct curl_slist *get_headers;    /* accept, user-agent, no Expect */
    struct curl_slist *post_headers;   /* the same and content-type */
    struct curl_slist *connect_to_list;
};

struct rest_call {
    atomic_int refs;
    rest_loop *loop; /* holds a reference to it */
    atomic_bool cancel_requested;
    rest_command start_cmd, cancel_cmd;
    rest_completion_fn on_complete;
    void *context;

    /* The request: its URL, metadata and body are copies in one allocation, `storage`. */
    rest_target *target; /* holds a reference to it */
    rest_request request;
    char *url;
    char *storage;
    struct curl_slist *header_list; /* the target's fixed headers and the metadata; NULL without metadata */

    /* Loop-thread state. */
    CURL *easy;      /* while the transfer is in the multi */
    struct rest_call *prev_active, *next_active; /* the loop's running transfers */
    bool completed;
    bool too_large;
    uint8_t *body;
    size_t body_len, body_cap;
    char error[CURL_ERROR_SIZE];
};

/* Loop side (rest_loop.c). */
/* Queues `cmd` (holding a call reference); false, with nothing queued, once the loop is closed. */
bool rest_loop_enqueue(rest_loop *loop, rest_command *cmd);
void rest_loop_retain(rest_loop *loop);

/* Target side (rest_target.c). */
void rest_target_retain(rest_target *target);
/* Appends a copy of `line` to `list`; false (the list unchanged) if memory ran out. */
bool rest_append_header(struct curl_slist **list, const char *line);

/* Call side (rest_call.c), on the loop thread. */
void rest_call_retain(rest_call *call);
/* Configures a (new or reset) easy handle for the call's request; false if libcurl refused an option. */
bool rest_call_configure(rest_call *call, CURL *easy);
/* Completes the call once: builds the result from the easy handle (NULL: no transfer) and `code`. */
void rest_call_finish(rest_call *call, CURL *easy, CURLcode code);
/* Completes the call once with `outcome` and no response. */
void rest_call_fail(rest_call *call, rest_outcome outcome, const char *detail);

#endif
