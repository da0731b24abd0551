/* An in-memory directory for the C ABI tests: the host side of UsersyncDirectory. */
#ifndef MEMDIR_H
#define MEMDIR_H

#include <stdbool.h>
#include "usersync.h"

#define MEMDIR_MAX_USERS 256
#define MEMDIR_MAX_FIELDS 16
#define MEMDIR_MAX_GROUPS 64

typedef struct {
    char *target;
    char *value;
} MemField;

typedef struct {
    char *key;
    char *username;
    char *display_name;
    char *email; /* NULL when empty */
    char *external_id;
    bool active;
    bool deleted;
    MemField fields[MEMDIR_MAX_FIELDS];
    int nfields;
    char *groups[MEMDIR_MAX_GROUPS];
    int ngroups;
    size_t avatar_len; /* bytes of the last avatar written */
} MemUser;

typedef struct {
    MemUser users[MEMDIR_MAX_USERS];
    int nusers;
    char *groups[MEMDIR_MAX_GROUPS];
    int ngroups;
    int next_key;
    char *locked; /* name of the held lock, or NULL */
    const char *fail_username; /* create_user fails for this username */
    int *destroyed; /* incremented by destroy */
    int finds; /* calls of find_user */
    int slow_ms; /* create_user sleeps this long (a slow host) */
    int lists; /* calls of list_users */
    int by_keys; /* calls of users_by_keys */
    int batches_begun, batches_ended;
    bool in_batch;
    int writes_outside_batch; /* creations and updates made while no batch was open */
    int *creates; /* when set, counts create_user calls; outlives the directory */
} MemDir;

/* A zeroed directory on the heap; the vtable's destroy frees it. */
MemDir *memdir_new(int *destroyed);
UsersyncDirectory memdir_vtable(MemDir *dir);
MemUser *memdir_find(MemDir *dir, const char *username);
int memdir_count(MemDir *dir, bool active_only);

#endif
