/* dkim_arena.c - per-handle allocation records for libopendkim (see dkim_arena.h). */
#include "dkim_arena.h"

#include <stdlib.h>

#include "util.h"

void *dkim_arena_malloc(void *closure, size_t size)
{
    void *block = malloc(size);
    struct dkim_arena *arena = closure;
    if (arena == NULL || block == NULL)
        return block;
    if (arena->count == arena->cap) {
        arena->cap = arena->cap ? arena->cap * 2 : 64;
        arena->blocks = xrealloc(arena->blocks, arena->cap * sizeof *arena->blocks);
    }
    arena->blocks[arena->count++] = block;
    return block;
}

void dkim_arena_free(void *closure, void *ptr)
{
    struct dkim_arena *arena = closure;
    if (arena != NULL && ptr != NULL) {
        /* recent blocks are freed first: search from the end */
        for (size_t i = arena->count; i > 0; i--) {
            if (arena->blocks[i - 1] == ptr) {
                arena->blocks[i - 1] = arena->blocks[--arena->count];
                break;
            }
        }
    }
    free(ptr);
}

void dkim_arena_release(struct dkim_arena *arena)
{
    for (size_t i = 0; i < arena->count; i++)
        free(arena->blocks[i]);
    arena->count = 0;
}

void dkim_arena_destroy(struct dkim_arena *arena)
{
    dkim_arena_release(arena);
    free(arena->blocks);
    arena->blocks = NULL;
    arena->cap = 0;
}
