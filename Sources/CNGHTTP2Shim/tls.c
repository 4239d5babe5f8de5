/* TLS for client connections with OpenSSL over memory BIOs: the connection feeds received bytes
 * in and sends what OpenSSL produces, so TLS runs on the loop thread exactly like cleartext, with
 * no blocking and no second I/O path. The newest session of each peer (up to TLS_SESSION_PEERS
 * peers, the least recently stored replaced first) is kept for resumption on reconnect. */
#include "internal.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLS_SESSION_PEERS 16

/* A resumable session and the peer it was made with: "host:port/server-name". */
typedef struct tls_kept_session {
    char peer[320];
    SSL_SESSION *session; /* NULL: free slot */
    uint64_t stored;      /* when it was stored, on the context's counter */
} tls_kept_session;

struct h2shim_tls {
    atomic_int refs;
    SSL_CTX *ctx;
    pthread_mutex_t lock; /* guards the sessions and the counter */
    tls_kept_session sessions[TLS_SESSION_PEERS];
    uint64_t stores;
};

static int conn_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void make_index(void) { conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL); }

static void openssl_error(char *out, size_t len, const char *what) {
    unsigned long code = ERR_get_error();
    char reason[200] = "unknown error";
    if (code) ERR_error_string_n(code, reason, sizeof reason);
    snprintf(out, len, "%s: %s", what, reason);
    ERR_clear_error();
}

/* The name sessions are kept under: the address and the name the certificate was checked for. */
static void session_key(const h2shim_conn *conn, char *out, size_t len) {
    snprintf(out, len, "%s/%s", conn->peer_label, conn->server_name ? conn->server_name : conn->host);
}

/* The slot of `peer`, else a free one, else the least recently stored. Call with the lock held. */
static tls_kept_session *session_slot(h2shim_tls *tls, const char *peer) {
    tls_kept_session *choice = &tls->sessions[0];
    for (size_t i = 0; i < TLS_SESSION_PEERS; i++) {
        tls_kept_session *slot = &tls->sessions[i];
        if (slot->session && strcmp(slot->peer, peer) == 0) return slot;
        if (!slot->session) {
            if (choice->session) choice = slot;
        } else if (choice->session && slot->stored < choice->stored) {
            choice = slot;
        }
    }
    return choice;
}

/* Keeps the newest session of a peer (TLS 1.3 sends tickets after the handshake). */
static int on_new_session(SSL *ssl, SSL_SESSION *session) {
    h2shim_conn *conn = SSL_get_ex_data(ssl, conn_index);
    if (!conn) return 0;
    h2shim_tls *tls = conn->options.tls;
    char peer[sizeof tls->sessions[0].peer];
    session_key(conn, peer, sizeof peer);
    pthread_mutex_lock(&tls->lock);
    tls_kept_session *slot = session_slot(tls, peer);
    if (slot->session) SSL_SESSION_free(slot->session);
    slot->session = session;
    slot->stored = ++tls->stores;
    memcpy(slot->peer, peer, sizeof peer);
    pthread_mutex_unlock(&tls->lock);
    return 1; /* we own the session now */
}

h2shim_tls *h2shim_tls_create(const char *ca_file, const char *cert_file, const char *key_file, char *error,
                              size_t error_len) {
    pthread_once(&index_once, make_index);
    h2shim_tls *tls = calloc(1, sizeof *tls);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!tls || !ctx) {
        snprintf(error, error_len, "cannot create a TLS context (out of memory)");
        goto fail;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
            char what[300];
            snprintf(what, sizeof what, "cannot load CA certificates from %s", ca_file);
            openssl_error(error, error_len, what);
            goto fail;
        }
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        openssl_error(error, error_len, "cannot load the system trust store");
        goto fail;
    }
    if (cert_file || key_file) {
        if (!cert_file || !key_file) {
            snprintf(error, error_len, "a client certificate needs both a certificate file and a key file");
            goto fail;
        }
        char what[300];
        if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
            snprintf(what, sizeof what, "cannot load the client certificate %s", cert_file);
            openssl_error(error, error_len, what);
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
            if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH)
                snprintf(what, sizeof what, "the client key %s does not match the certificate %s", key_file, cert_file);
            else
                snprintf(what, sizeof what, "cannot load the client key %s", key_file);
            openssl_error(error, error_len, what);
            goto fail;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            snprintf(what, sizeof what, "the client key %s does not match the certificate %s", key_file, cert_file);
            openssl_error(error, error_len, what);
            goto fail;
        }
    }
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    tls->ctx = ctx;
    pthread_mutex_init(&tls->lock, NULL);
    atomic_init(&tls->refs, 1);
    return tls;
fail:
    if (ctx) SSL_CTX_free(ctx);
    free(tls);
    return NULL;
}

void tls_retain(h2shim_tls *tls) { atomic_fetch_add_explicit(&tls->refs, 1, memory_order_relaxed); }

void h2shim_tls_release(h2shim_tls *tls) {
    if (!tls || atomic_fetch_sub_explicit(&tls->refs, 1, memory_order_acq_rel) != 1) return;
    for (size_t i = 0; i < TLS_SESSION_PEERS; i++) {
        if (tls->sessions[i].session) SSL_SESSION_free(tls->sessions[i].session);
    }
    SSL_CTX_free(tls->ctx);
    pthread_mutex_destroy(&tls->lock);
    free(tls);
}

static bool is_ip_address(const char *name) {
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* Moves what OpenSSL wrote (handshake records, application data) into the send buffer. */
static bool drain_output(h2shim_conn *conn) {
    BIO *wbio = SSL_get_wbio(conn->ssl);
    uint8_t chunk[16 * 1024];
    int n;
    while ((n = BIO_read(wbio, chunk, sizeof chunk)) > 0) {
        if (!byte_buffer_append(&conn->outbuf, chunk, (size_t)n)) return false;
    }
    return true;
}

bool tls_start(h2shim_conn *conn) {
    h2shim_tls *tls = conn->options.tls;
    SSL *ssl = SSL_new(tls->ctx);
    BIO *rbio = BIO_new(BIO_s_mem());
    BIO *wbio = BIO_new(BIO_s_mem());
    if (!ssl || !rbio || !wbio) {
        if (ssl) SSL_free(ssl);
        if (rbio) BIO_free(rbio);
        if (wbio) BIO_free(wbio);
        snprintf(conn->last_error, sizeof conn->last_error, "cannot start TLS with %s (out of memory)", conn->peer_label);
        return false;
    }
    SSL_set_bio(ssl, rbio, wbio);
    SSL_set_connect_state(ssl);
    SSL_set_ex_data(ssl, conn_index, conn);
    const char *name = conn->server_name ? conn->server_name : conn->host;
    if (is_ip_address(name)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name); /* no SNI for addresses (RFC 6066) */
    } else {
        SSL_set_tlsext_host_name(ssl, name);
        SSL_set1_host(ssl, name);
    }
    static const unsigned char h2_only[] = {2, 'h', '2'};
    static const unsigned char h2_or_http1[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    if (conn->options.offer_http1) SSL_set_alpn_protos(ssl, h2_or_http1, sizeof h2_or_http1);
    else SSL_set_alpn_protos(ssl, h2_only, sizeof h2_only);
    char peer[sizeof tls->sessions[0].peer];
    session_key(conn, peer, sizeof peer);
    pthread_mutex_lock(&tls->lock);
    tls_kept_session *kept = session_slot(tls, peer);
    if (kept->session && strcmp(kept->peer, peer) == 0) SSL_set_session(ssl, kept->session);
    pthread_mutex_unlock(&tls->lock);
    conn->ssl = ssl;
    return true;
}

int tls_handshake(h2shim_conn *conn) {
    int rv = SSL_do_handshake(conn->ssl);
    if (!drain_output(conn)) {
        snprintf(conn->last_error, sizeof conn->last_error, "out of memory during the TLS handshake");
        return -1;
    }
    if (rv == 1) {
        const unsigned char *protocol = NULL;
        unsigned int length = 0;
        SSL_get0_alpn_selected(conn->ssl, &protocol, &length);
        /* A server that answers no ALPN at all speaks HTTP/1.1 (RFC 7301: it did not negotiate). */
        if (conn->options.offer_http1 && (length == 0 || (length == 8 && memcmp(protocol, "http/1.1", 8) == 0))) {
            snprintf(conn->last_error, sizeof conn->last_error, "TLS server %s chose HTTP/1.1 (ALPN %s)", conn->peer_label,
                     length ? "http/1.1" : "not negotiated");
            conn->on_event(conn->context, H2SHIM_EVENT_HTTP1_SELECTED, 0, conn->last_error);
            return -1;
        }
        if (length != 2 || memcmp(protocol, "h2", 2) != 0) {
            snprintf(conn->last_error, sizeof conn->last_error,
                     "TLS server %s did not agree to HTTP/2 (ALPN h2 required, it selected %s%.*s%s)", conn->peer_label,
                     length ? "\"" : "none", (int)length, length ? (const char *)protocol : "", length ? "\"" : "");
            return -1;
        }
        atomic_store_explicit(&conn->tls_resumed, SSL_session_reused(conn->ssl) == 1, memory_order_relaxed);
        return 1;
    }
    int error = SSL_get_error(conn->ssl, rv);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return 0;
    long verify = SSL_get_verify_result(conn->ssl);
    if (verify != X509_V_OK) {
        snprintf(conn->last_error, sizeof conn->last_error, "TLS certificate verification failed for %s: %s",
                 conn->peer_label, X509_verify_cert_error_string(verify));
        ERR_clear_error();
        return -1;
    }
    if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL) {
        snprintf(conn->last_error, sizeof conn->last_error,
                 "TLS server %s did not agree to HTTP/2 (ALPN h2 required, it refused the protocol)", conn->peer_label);
        ERR_clear_error();
        return -1;
    }
    bool cleartext_peer = ERR_GET_REASON(ERR_peek_error()) == SSL_R_WRONG_VERSION_NUMBER;
    char what[200];
    snprintf(what, sizeof what, "TLS handshake with %s failed%s", conn->peer_label,
             cleartext_peer ? " (the server does not speak TLS: use grpc://)" : "");
    openssl_error(conn->last_error, sizeof conn->last_error, what);
    return -1;
}

bool tls_feed(h2shim_conn *conn, const uint8_t *data, size_t len) {
    return BIO_write(SSL_get_rbio(conn->ssl), data, (int)len) == (int)len;
}

const char *tls_rejection_hint(h2shim_conn *conn) {
    int reason = ERR_GET_REASON(ERR_peek_error());
    bool certificate_alert = reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED || reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
                             reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA || reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN;
    bool has_certificate = SSL_get_certificate(conn->ssl) != NULL;
    if (has_certificate)
        return certificate_alert ? " (the server rejected the client certificate)" : "";
    if (certificate_alert)
        return " (the server requires a client certificate: set CONDUCTOR_TLS_CERT_FILE and CONDUCTOR_TLS_KEY_FILE)";
    if (!conn->ready_reported)
        return " (before HTTP/2 began: the server may require a client certificate, see CONDUCTOR_TLS_CERT_FILE)";
    return "";
}

ssize_t tls_read(h2shim_conn *conn, uint8_t *buf, size_t cap) {
    int n = SSL_read(conn->ssl, buf, (int)cap);
    if (n > 0) return n;
    int error = SSL_get_error(conn->ssl, n);
    drain_output(conn);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return 0;
    if (error == SSL_ERROR_ZERO_RETURN) {
        snprintf(conn->last_error, sizeof conn->last_error, "TLS connection closed by %s%s", conn->peer_label,
                 tls_rejection_hint(conn));
    } else {
        char what[300];
        snprintf(what, sizeof what, "TLS error from %s%s", conn->peer_label, tls_rejection_hint(conn));
        openssl_error(conn->last_error, sizeof conn->last_error, what);
    }
    return -1;
}

bool tls_write(h2shim_conn *conn, const uint8_t *data, size_t len) {
    /* A memory BIO takes everything: SSL_write completes at once. */
    if (len && SSL_write(conn->ssl, data, (int)len) != (int)len) {
        char what[200];
        snprintf(what, sizeof what, "TLS write to %s failed", conn->peer_label);
        openssl_error(conn->last_error, sizeof conn->last_error, what);
        return false;
    }
    return drain_output(conn);
}

void tls_close(h2shim_conn *conn) {
    if (!conn->ssl) return;
    /* Without this, SSL_free treats a connection closed without close_notify as broken and makes
       its session (the one kept for the peer) unresumable. A fatal TLS alert, sent or received,
       has already discarded the session by then, so only sound sessions stay resumable. */
    SSL_set_shutdown(conn->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(conn->ssl); /* frees both BIOs */
    conn->ssl = NULL;
}
