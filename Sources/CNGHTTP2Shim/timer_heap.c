/* A binary min-heap of timers by due time; each timer knows its index so removal is O(log n). */
#include "internal.h"

#include <stdlib.h>
#include <time.h>

uint64_t monotonic_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void place(timer_heap *heap, size_t index, timer *t) {
    heap->items[index] = t;
    t->heap_index = index;
}

static void sift_up(timer_heap *heap, size_t index) {
    timer *t = heap->items[index];
    while (index > 0) {
        size_t parent = (index - 1) / 2;
        if (heap->items[parent]->due_ns <= t->due_ns) break;
        place(heap, index, heap->items[parent]);
        index = parent;
    }
    place(heap, index, t);
}

static void sift_down(timer_heap *heap, size_t index) {
    timer *t = heap->items[index];
    for (;;) {
        size_t child = 2 * index + 1;
        if (child >= heap->count) break;
        if (child + 1 < heap->count && heap->items[child + 1]->due_ns < heap->items[child]->due_ns) child++;
        if (heap->items[child]->due_ns >= t->due_ns) break;
        place(heap, index, heap->items[child]);
        index = child;
    }
    place(heap, index, t);
}

bool timer_heap_push(timer_heap *heap, timer *t) {
    if (heap->count == heap->cap) {
        size_t cap = heap->cap ? heap->cap * 2 : 64;
        timer **items = realloc(heap->items, cap * sizeof(timer *));
        if (!items) return false;
        heap->items = items;
        heap->cap = cap;
    }
    heap->items[heap->count] = t;
    t->heap_index = heap->count;
    heap->count++;
    sift_up(heap, t->heap_index);
    return true;
}

void timer_heap_remove(timer_heap *heap, timer *t) {
    size_t index = t->heap_index;
    if (index == SIZE_MAX || index >= heap->count || heap->items[index] != t) return;
    t->heap_index = SIZE_MAX;
    heap->count--;
    if (index == heap->count) return;
    place(heap, index, heap->items[heap->count]);
    sift_down(heap, index);
    sift_up(heap, heap->items[index]->heap_index);
}

timer *timer_heap_peek(const timer_heap *heap) {
    return heap->count ? heap->items[0] : NULL;
}

void timer_heap_free(timer_heap *heap) {
    free(heap->items);
    heap->items = NULL;
    heap->count = heap->cap = 0;
}
