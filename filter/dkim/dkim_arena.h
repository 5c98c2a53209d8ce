/* dkim_arena.h - memory for one libopendkim signing handle. libopendkim 2.11.0~beta2 does not
 * free every block it allocates for a signature (the signature buffer of dkim_privkey_load
 * leaks at dkim_free, 256 bytes per RSA-2048 signature): a signing library made with these
 * allocators records each block allocated for a handle (its memclosure is the arena) and
 * dkim_arena_release frees what dkim_free left. Library-wide blocks (closure NULL) use malloc. */
#ifndef MW_DKIM_ARENA_H
#define MW_DKIM_ARENA_H

#include <stddef.h>

struct dkim_arena {
    void **blocks;
    size_t count;
    size_t cap;
};

/* The allocators to give dkim_init. */
void *dkim_arena_malloc(void *closure, size_t size);
void dkim_arena_free(void *closure, void *ptr);

/* Frees every block still recorded (call after dkim_free of the handle); the arena is reusable. */
void dkim_arena_release(struct dkim_arena *arena);
/* Releases and frees the record itself. */
void dkim_arena_destroy(struct dkim_arena *arena);

#endif
