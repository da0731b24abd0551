/* The in-memory directory for the C ABI tests. Deliberately plain: arrays and strdup. */
#define _POSIX_C_SOURCE 200809L
#include "memdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

/* --- a growable string for JSON answers ------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
} Buf;

static void buf_add(Buf *b, const char *s) {
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
}

static void buf_str(Buf *b, const char *s) {
    char tmp[8];
    buf_add(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)*p;
            tmp[2] = 0;
        } else if (*p < 0x20) {
            snprintf(tmp, sizeof tmp, "\\u%04x", *p);
        } else {
            tmp[0] = (char)*p;
            tmp[1] = 0;
        }
        buf_add(b, tmp);
    }
    buf_add(b, "\"");
}

static int answer(UsersyncOut *out, Buf *b) {
    usersync_out_set(out, b->data);
    free(b->data);
    return USERSYNC_DIR_RESULT_OK;
}

static int reply(UsersyncOut *out, int code, const char *message) {
    usersync_out_set(out, message);
    return code;
}

/* --- lookups ---------------------------------------------------------------------------- */

MemUser *memdir_find(MemDir *dir, const char *username) {
    for (int i = 0; i < dir->nusers; i++) {
        MemUser *u = &dir->users[i];
        if (!u->deleted && strcasecmp(u->username, username) == 0) return u;
    }
    return NULL;
}

static MemUser *by_key(MemDir *dir, const char *key) {
    for (int i = 0; i < dir->nusers; i++) {
        MemUser *u = &dir->users[i];
        if (!u->deleted && strcmp(u->key, key) == 0) return u;
    }
    return NULL;
}

int memdir_count(MemDir *dir, bool active_only) {
    int n = 0;
    for (int i = 0; i < dir->nusers; i++) {
        if (!dir->users[i].deleted && (!active_only || dir->users[i].active)) n++;
    }
    return n;
}

static void replace(char **slot, const char *value) {
    free(*slot);
    *slot = value ? strdup(value) : NULL;
}

/* --- callbacks -------------------------------------------------------------------------- */

static int capabilities(void *ctx, UsersyncOut *out) {
    (void)ctx;
    return reply(out, USERSYNC_DIR_RESULT_OK,
                "{\"properties\":true,\"profile_fields\":[\"phone\",\"im\",\"website\",\"position\","
                "\"department\",\"location\"],\"communardo\":false,\"linchpin\":false,"
                "\"jsm_organizations\":false,\"avatars\":false,\"create_groups\":true}");
}

static void user_json(Buf *b, const MemUser *u) {
    buf_add(b, "{\"key\":");
    buf_str(b, u->key);
    buf_add(b, ",\"username\":");
    buf_str(b, u->username);
    buf_add(b, u->active ? ",\"active\":true" : ",\"active\":false");
    buf_add(b, ",\"values\":{\"display_name\":");
    buf_str(b, u->display_name);
    if (u->email) {
        buf_add(b, ",\"email\":");
        buf_str(b, u->email);
    }
    for (int f = 0; f < u->nfields; f++) {
        buf_add(b, ",");
        buf_str(b, u->fields[f].target);
        buf_add(b, ":");
        buf_str(b, u->fields[f].value);
    }
    buf_add(b, "},\"groups\":[");
    for (int g = 0; g < u->ngroups; g++) {
        if (g) buf_add(b, ",");
        buf_str(b, u->groups[g]);
    }
    buf_add(b, "],\"external_id\":");
    buf_str(b, u->external_id);
    buf_add(b, "}");
}

static int list_users(void *ctx, UsersyncOut *out) {
    MemDir *dir = ctx;
    dir->lists++;
    Buf b = {0};
    buf_add(&b, "[");
    bool first = true;
    for (int i = 0; i < dir->nusers; i++) {
        if (dir->users[i].deleted) continue;
        if (!first) buf_add(&b, ",");
        first = false;
        user_json(&b, &dir->users[i]);
    }
    buf_add(&b, "]");
    return answer(out, &b);
}

static int find_user(void *ctx, const char *username, UsersyncOut *out) {
    MemDir *dir = ctx;
    dir->finds++;
    MemUser *u = memdir_find(dir, username);
    if (!u) return reply(out, USERSYNC_DIR_RESULT_NOT_FOUND, "no such user");
    Buf b = {0};
    user_json(&b, u);
    return answer(out, &b);
}

/* The argument is a JSON array of keys; keys here are "k<n>", so a quoted match is exact. */
static int users_by_keys(void *ctx, const char *keys_json, UsersyncOut *out) {
    MemDir *dir = ctx;
    dir->by_keys++;
    Buf b = {0};
    buf_add(&b, "[");
    bool first = true;
    for (int i = 0; i < dir->nusers; i++) {
        MemUser *u = &dir->users[i];
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\"", u->key);
        if (u->deleted || !strstr(keys_json, quoted)) continue;
        if (!first) buf_add(&b, ",");
        first = false;
        user_json(&b, u);
    }
    buf_add(&b, "]");
    return answer(out, &b);
}

static int find_by_external_id(void *ctx, const char *external_id, UsersyncOut *out) {
    MemDir *dir = ctx;
    for (int i = 0; i < dir->nusers; i++) {
        MemUser *u = &dir->users[i];
        if (u->deleted || strcmp(u->external_id, external_id) != 0) continue;
        Buf b = {0};
        user_json(&b, u);
        return answer(out, &b);
    }
    return reply(out, USERSYNC_DIR_RESULT_NOT_FOUND, "no such user");
}

static int begin_batch(void *ctx, UsersyncOut *out) {
    MemDir *dir = ctx;
    if (dir->in_batch) return reply(out, USERSYNC_DIR_RESULT_FAILED, "a batch is open already");
    dir->in_batch = true;
    dir->batches_begun++;
    return reply(out, USERSYNC_DIR_RESULT_OK, "");
}

static int end_batch(void *ctx, UsersyncOut *out) {
    MemDir *dir = ctx;
    if (!dir->in_batch) return reply(out, USERSYNC_DIR_RESULT_FAILED, "no batch is open");
    dir->in_batch = false;
    dir->batches_ended++;
    return reply(out, USERSYNC_DIR_RESULT_OK, "");
}

static int set_avatar(void *ctx, const char *key, const uint8_t *image, size_t len, UsersyncOut *out) {
    MemDir *dir = ctx;
    MemUser *u = by_key(dir, key);
    if (!u) return reply(out, USERSYNC_DIR_RESULT_NOT_FOUND, "no such user");
    if (len > 0 && image == NULL) return reply(out, USERSYNC_DIR_RESULT_FAILED, "no image bytes");
    u->avatar_len = len;
    return reply(out, USERSYNC_DIR_RESULT_OK, "");
}

static int list_groups(void *ctx, UsersyncOut *out) {
    MemDir *dir = ctx;
    Buf b = {0};
    buf_add(&b, "[");
    for (int g = 0; g < dir->ngroups; g++) {
        if (g) buf_add(&b, ",");
        buf_str(&b, dir->groups[g]);
    }
    buf_add(&b, "]");
    return answer(out, &b);
}

static int create_user(void *ctx, const char *username, const char *display_name, const char *email, bool active,
                       const char *external_id, UsersyncOut *out) {
    MemDir *dir = ctx;
    if (dir->creates) (*dir->creates)++;
    if (!dir->in_batch) dir->writes_outside_batch++;
    if (dir->slow_ms > 0) {
        struct timespec t = {dir->slow_ms / 1000, (long)(dir->slow_ms % 1000) * 1000000L};
        nanosleep(&t, NULL);
    }
    if (dir->fail_username && strcmp(dir->fail_username, username) == 0)
        return reply(out, USERSYNC_DIR_RESULT_FAILED, "the test directory refuses this user");
    if (memdir_find(dir, username)) return reply(out, USERSYNC_DIR_RESULT_CONFLICT, "username taken");
    if (dir->nusers == MEMDIR_MAX_USERS) return reply(out, USERSYNC_DIR_RESULT_FAILED, "directory full");
    MemUser *u = &dir->users[dir->nusers++];
    char key[32];
    snprintf(key, sizeof key, "k%d", ++dir->next_key);
    u->key = strdup(key);
    u->username = strdup(username);
    u->display_name = strdup(display_name);
    u->email = email ? strdup(email) : NULL;
    u->external_id = strdup(external_id);
    u->active = active;
    return reply(out, USERSYNC_DIR_RESULT_OK, key);
}

static int update_core(void *ctx, const char *key, const char *target, const char *value, UsersyncOut *out) {
    MemUser *u = by_key(ctx, key);
    if (!u) return reply(out, USERSYNC_DIR_RESULT_NOT_FOUND, "no such key");
    if (strcmp(target, "display_name") == 0) replace(&u->display_name, value ? value : u->username);
    else if (strcmp(target, "email") == 0) replace(&u->email, value);
    else return reply(out, USERSYNC_DIR_RESULT_UNSUPPORTED, "not a core field");
    return USERSYNC_DIR_RESULT_OK;
}

static int rename_user(void *ctx, const char *key, const char *username, UsersyncOut *out) {
    MemUser *u = by_key(ctx, key);
    if (!u) return reply(out, USERSYNC_DIR_RESULT_NOT_FOUND, "no such key");
    MemUser *other = memdir_find(ctx, username);
    if (other && other != u) return reply(out, USERSYNC_DIR_RESULT_CONFLICT, "username taken");
    replace(&u->username, username);
    return USERSYNC_DIR_RESULT_OK;
}

static int set_active(void *ctx, const char *key, bool active, UsersyncOut *out) {
    MemUser *u = by_key(ctx, key);
    if (!u) return reply(out, USERSYNC_DIR_RESULT_NOT_FOUND, "no such key");
    u->active = active;
    return USERSYNC_DIR_RESULT_OK;
}

static void clear_user(MemUser *u) {
    free(u->key);
    free(u->username);
    free(u->display_name);
    free(u->email);
    free(u->external_id);
    for (int f = 0; f < u->nfields; f++) {
        free(u->fields[f].target);
        free(u->fields[f].value);
    }
    for (int g = 0; g < u->ngroups; g++) free(u->groups[g]);
    memset(u, 0, sizeof *u);
}

static int delete_user(void *ctx, const char *key, UsersyncOut *out) {
    MemUser *u = by_key(ctx, key);
    if (!u) return reply(out, USERSYNC_DIR_RESULT_NOT_FOUND, "no such key");
    clear_user(u);
    u->deleted = true;
    return USERSYNC_DIR_RESULT_OK;
}

static int anonymise(void *ctx, const char *key, UsersyncOut *out) {
    MemUser *u = by_key(ctx, key);
    if (!u) return reply(out, USERSYNC_DIR_RESULT_NOT_FOUND, "no such key");
    char name[64];
    snprintf(name, sizeof name, "anonymised-%s", key);
    replace(&u->username, name);
    replace(&u->display_name, "Anonymised user");
    replace(&u->email, NULL);
    u->active = false;
    return reply(out, USERSYNC_DIR_RESULT_OK, name);
}

static int set_field(void *ctx, const char *key, const char *target, const char *value, UsersyncOut *out) {
    MemUser *u = by_key(ctx, key);
    if (!u) return reply(out, USERSYNC_DIR_RESULT_NOT_FOUND, "no such key");
    for (int f = 0; f < u->nfields; f++) {
        if (strcmp(u->fields[f].target, target) == 0) {
            if (value) {
                replace(&u->fields[f].value, value);
            } else {
                free(u->fields[f].target);
                free(u->fields[f].value);
                u->fields[f] = u->fields[--u->nfields];
            }
            return USERSYNC_DIR_RESULT_OK;
        }
    }
    if (!value) return USERSYNC_DIR_RESULT_OK;
    if (u->nfields == MEMDIR_MAX_FIELDS) return reply(out, USERSYNC_DIR_RESULT_FAILED, "too many fields");
    u->fields[u->nfields].target = strdup(target);
    u->fields[u->nfields].value = strdup(value);
    u->nfields++;
    return USERSYNC_DIR_RESULT_OK;
}

static int find_group(MemDir *dir, const char *name) {
    for (int g = 0; g < dir->ngroups; g++)
        if (strcasecmp(dir->groups[g], name) == 0) return g;
    return -1;
}

static int add_membership(void *ctx, const char *key, const char *group, UsersyncOut *out) {
    MemDir *dir = ctx;
    MemUser *u = by_key(dir, key);
    if (!u) return reply(out, USERSYNC_DIR_RESULT_NOT_FOUND, "no such key");
    if (find_group(dir, group) < 0) return reply(out, USERSYNC_DIR_RESULT_NOT_FOUND, "no such group");
    for (int g = 0; g < u->ngroups; g++)
        if (strcasecmp(u->groups[g], group) == 0) return USERSYNC_DIR_RESULT_OK;
    if (u->ngroups == MEMDIR_MAX_GROUPS) return reply(out, USERSYNC_DIR_RESULT_FAILED, "too many groups");
    u->groups[u->ngroups++] = strdup(group);
    return USERSYNC_DIR_RESULT_OK;
}

static int remove_membership(void *ctx, const char *key, const char *group, UsersyncOut *out) {
    MemUser *u = by_key(ctx, key);
    if (!u) return reply(out, USERSYNC_DIR_RESULT_NOT_FOUND, "no such key");
    for (int g = 0; g < u->ngroups; g++) {
        if (strcasecmp(u->groups[g], group) == 0) {
            free(u->groups[g]);
            u->groups[g] = u->groups[--u->ngroups];
            break;
        }
    }
    return USERSYNC_DIR_RESULT_OK;
}

static int create_group(void *ctx, const char *name, UsersyncOut *out) {
    MemDir *dir = ctx;
    if (find_group(dir, name) >= 0) return USERSYNC_DIR_RESULT_OK;
    if (dir->ngroups == MEMDIR_MAX_GROUPS) return reply(out, USERSYNC_DIR_RESULT_FAILED, "too many groups");
    dir->groups[dir->ngroups++] = strdup(name);
    return USERSYNC_DIR_RESULT_OK;
}

static int try_lock(void *ctx, const char *name, uint64_t ttl, bool *acquired, UsersyncOut *out) {
    MemDir *dir = ctx;
    (void)ttl;
    (void)out;
    *acquired = dir->locked == NULL;
    if (*acquired) dir->locked = strdup(name);
    return USERSYNC_DIR_RESULT_OK;
}

static int unlock(void *ctx, const char *name, UsersyncOut *out) {
    MemDir *dir = ctx;
    (void)out;
    if (dir->locked && strcmp(dir->locked, name) == 0) {
        free(dir->locked);
        dir->locked = NULL;
    }
    return USERSYNC_DIR_RESULT_OK;
}

static void destroy(void *ctx) {
    MemDir *dir = ctx;
    for (int i = 0; i < dir->nusers; i++) clear_user(&dir->users[i]);
    for (int g = 0; g < dir->ngroups; g++) free(dir->groups[g]);
    free(dir->locked);
    if (dir->destroyed) (*dir->destroyed)++;
    free(dir);
}

MemDir *memdir_new(int *destroyed) {
    MemDir *dir = calloc(1, sizeof *dir);
    dir->destroyed = destroyed;
    return dir;
}

UsersyncDirectory memdir_vtable(MemDir *dir) {
    UsersyncDirectory vt = {
        .ctx = dir,
        .capabilities = capabilities,
        .list_users = list_users,
        .list_groups = list_groups,
        .create_user = create_user,
        .update_core = update_core,
        .rename = rename_user,
        .set_active = set_active,
        .delete_user = delete_user,
        .anonymise = anonymise,
        .set_field = set_field,
        .add_membership = add_membership,
        .remove_membership = remove_membership,
        .create_group = create_group,
        .try_lock = try_lock,
        .unlock = unlock,
        .destroy = destroy,
        .find_user = find_user,
        .find_by_external_id = find_by_external_id,
        .users_by_keys = users_by_keys,
        .begin_batch = begin_batch,
        .end_batch = end_batch,
        .set_avatar = set_avatar,
    };
    return vt;
}
