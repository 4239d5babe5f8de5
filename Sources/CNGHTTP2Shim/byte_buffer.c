/* A growable byte buffer: response headers, bodies and the outgoing frame buffer. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

bool byte_buffer_append(byte_buffer *buffer, const uint8_t *bytes, size_t len) {
    if (len == 0) return true;
    if (buffer->len + len > buffer->cap) {
        size_t cap = buffer->cap ? buffer->cap : 256;
        while (cap < buffer->len + len) cap *= 2;
        uint8_t *data = realloc(buffer->data, cap);
        if (!data) return false;
        buffer->data = data;
        buffer->cap = cap;
    }
    memcpy(buffer->data + buffer->len, bytes, len);
    buffer->len += len;
    return true;
}

void byte_buffer_consume(byte_buffer *buffer, size_t len) {
    if (len >= buffer->len) {
        buffer->len = 0;
        return;
    }
    memmove(buffer->data, buffer->data + len, buffer->len - len);
    buffer->len -= len;
}

void byte_buffer_free(byte_buffer *buffer) {
    free(buffer->data);
    buffer->data = NULL;
    buffer->len = buffer->cap = 0;
}
